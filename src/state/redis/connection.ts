// The Redis store's connection and everything whose life follows it: the command client and the
// wait for its first connection, seeding the store once connected (retried until done), the change
// feed and this store's change listeners, health and close. The data operations (redis-store.ts)
// send their commands through `run`, which holds them to the failure behaviour redis-store.ts
// describes: wait for the first connection at start, then fail at once with a RedisStoreError.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { RedisStoreSettings } from '../../config/redis-store-settings.js';
import type { Seed } from '../seed-file.js';
import type { StateChange, StoreHealth } from '../store.js';
import { ChangeFeed } from './change-feed.js';
import { createCommandClient, planConnection, reconnectDelay, subscriberFactory, type ConnectionPlan, type PlanEnvironment } from './client.js';
import { Redactor, RedisStoreError, storeFailure, type FailureContext } from './errors.js';
import { redisKeys, type RedisKeys } from './keys.js';
import { applySeedOnce, type SeedOutcome } from './seed.js';
import { SILENT_LOG, type StoreLog } from './store-log.js';

export interface RedisStoreOptions {
  readonly settings: RedisStoreSettings;
  /** Applied once to a store never seeded before (see seed.ts). */
  readonly seed?: Seed;
  readonly log?: StoreLog;
  readonly now?: () => number;
  /** Where passwords and TLS files are read from (tests); the process environment by default. */
  readonly environment?: PlanEnvironment;
  /** How often the change feed's connection is pinged (ms). */
  readonly pingIntervalMs?: number;
}

export class StoreConnection {
  /** This store's id in published changes. */
  readonly origin = randomUUID();
  readonly keys: RedisKeys;
  readonly client: Redis | Cluster;
  readonly now: () => number;
  private readonly plan: ConnectionPlan;
  private readonly redactor: Redactor;
  private readonly failure: FailureContext;
  private readonly log: StoreLog;
  private readonly listeners: ((change: StateChange) => void)[] = [];
  private readonly startup: Promise<void>;
  private readonly seedDone: Promise<SeedOutcome | undefined>;
  private resolveSeed: (outcome: SeedOutcome | undefined) => void = () => undefined;
  private pendingSeed: Seed | undefined;
  private seeding = false;
  private seedAttempts = 0;
  private feed: ChangeFeed | undefined;
  private lastError: string | undefined;
  private everReady = false;
  private lost = false;
  private closed = false;

  constructor(private readonly options: RedisStoreOptions) {
    const { settings } = options;
    this.keys = redisKeys(settings.keyPrefix);
    this.log = options.log ?? SILENT_LOG;
    this.now = options.now ?? Date.now;
    this.plan = planConnection(settings, options.environment);
    this.redactor = new Redactor(this.plan.secrets);
    this.failure = {
      keyPrefix: settings.keyPrefix,
      commandTimeoutMs: settings.commandTimeout,
      connection: () => this.connectionState(),
      redactor: this.redactor,
    };
    this.pendingSeed = options.seed;
    this.seedDone = options.seed === undefined ? Promise.resolve(undefined) : new Promise((resolve) => (this.resolveSeed = resolve));

    this.client = createCommandClient(this.plan);
    this.client.on('error', (error: Error) => this.noteError(error));
    this.client.on('node error', (error: Error) => this.noteError(error));
    this.client.on('ready', () => this.connectionReady());
    this.client.on('close', () => this.connectionClosed());
    this.startup = new Promise((resolve) => {
      const timer = setTimeout(resolve, settings.connectTimeout);
      timer.unref();
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Runs one store operation: waits for the first connection at start, maps failures to RedisStoreError. */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new RedisStoreError(`Redis ${operation} failed: the store is closed`);
    await this.startup;
    try {
      return await work();
    } catch (error) {
      throw storeFailure(operation, error, this.failure);
    }
  }

  /** The first listener starts the change feed: other replicas' writes reach listeners through it. */
  onChange(listener: (change: StateChange) => void): void {
    this.listeners.push(listener);
    if (this.feed === undefined && !this.closed) {
      this.feed = new ChangeFeed({
        channel: this.keys.channel,
        origin: this.origin,
        connect: subscriberFactory(this.plan, this.client),
        emit: (change) => this.emit(change),
        redactor: this.redactor,
        log: this.log,
        ...(this.options.pingIntervalMs !== undefined && { pingIntervalMs: this.options.pingIntervalMs }),
      });
    }
  }

  /** Tells this store's listeners about a change, its own write or one from the feed. */
  emit(change: StateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.warn({ err: (error as Error).message, change: change.kind }, 'a store change listener failed');
      }
    }
  }

  /**
   * Healthy when commands can be sent and, once something listens for changes, the change feed is
   * subscribed (without it caches could keep answers a change has outdated).
   */
  health(): StoreHealth {
    const commandsReady = this.client.status === 'ready';
    const feedReady = this.feed === undefined || this.feed.subscribed;
    if (commandsReady && feedReady) return { healthy: true, detail: `connected to ${this.plan.target}` };
    const problems: string[] = [];
    if (!commandsReady) problems.push(`connection ${this.connectionState()}`);
    if (!feedReady) problems.push(`change feed ${this.feed!.describe()}`);
    return { healthy: false, detail: this.redactor.redact(`Redis ${this.plan.target}: ${problems.join('; ')}`) };
  }

  /** Resolves true once connected, false if that takes longer than `timeoutMs`. */
  connected(timeoutMs: number = this.options.settings.connectTimeout): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      this.client.once('ready', onReady);
    });
  }

  /** The seeding's outcome once it is done (undefined without a seed); seeding retries until it is. */
  whenSeeded(): Promise<SeedOutcome | undefined> {
    return this.seedDone;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed?.close();
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  private connectionState(): string {
    const status = this.client.status;
    return this.lastError === undefined ? status : `${status}; last error: ${this.lastError}`;
  }

  private noteError(error: Error): void {
    this.lastError = this.redactor.redact(error.message);
  }

  private connectionReady(): void {
    if (this.lost) this.log.info({ target: this.plan.target }, 'Redis connection is back');
    this.everReady = true;
    this.lost = false;
    this.lastError = undefined;
    this.seedIfPending();
  }

  private connectionClosed(): void {
    if (this.closed || !this.everReady || this.lost) return;
    this.lost = true;
    this.log.warn({ target: this.plan.target, err: this.lastError }, 'Redis connection lost; store operations fail until it is back');
  }

  private seedIfPending(): void {
    const seed = this.pendingSeed;
    if (seed === undefined || this.seeding || this.closed) return;
    this.seeding = true;
    applySeedOnce(this.client, this.keys, seed, this.origin, this.now).then(
      (outcome) => {
        this.seeding = false;
        this.pendingSeed = undefined;
        this.logSeed(outcome);
        this.resolveSeed(outcome);
      },
      (error: unknown) => {
        this.seeding = false;
        const message = storeFailure('seeding', error, this.failure).message;
        this.log.warn({ err: message }, 'could not seed the Redis store; trying again');
        const retry = setTimeout(() => {
          if (this.client.status === 'ready') this.seedIfPending();
        }, reconnectDelay(++this.seedAttempts) * 10);
        retry.unref();
      },
    );
  }

  private logSeed(outcome: SeedOutcome): void {
    const fields = { seededAt: outcome.marker?.at, marker: this.keys.seeded };
    if (outcome.applied) this.log.info(fields, 'seeded the Redis store from the seed file');
    else if (outcome.sameSeed) this.log.info(fields, 'the Redis store was seeded before; the seed file is not applied again');
    else {
      this.log.warn(fields, 'the seed file differs from the one the Redis store was seeded with; it is not applied (the store holds the live state; delete the marker key to seed again)');
    }
  }
}
