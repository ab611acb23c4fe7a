// The change feed: a dedicated connection subscribed to `<keyPrefix>changes`, where every write
// (by any replica) publishes `{ origin, change }`. Messages are fire-and-forget: whatever is
// published while the subscription is down is lost. So each time the subscription is established
// (the first time included: until then nothing could be heard) the feed emits `{ kind: 'flush' }`,
// telling caches that anything may have changed. A message that cannot be understood is a flush too.
// The subscriber is pinged every few seconds, so a connection that silently died is noticed.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { StateChange } from '../store.js';
import { reconnectDelay } from './client.js';
import type { Redactor } from './errors.js';
import type { StoreLog } from './store-log.js';

const revocationSchema = z.object({
  kind: z.enum(['token', 'subject', 'session']),
  id: z.string(),
  before: z.number().optional(),
  expiresAt: z.number(),
});

const changeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('roles'), subject: z.string() }),
  z.object({ kind: z.literal('tuples'), object: z.string(), relation: z.string() }),
  z.object({ kind: z.literal('revocation'), revocation: revocationSchema }),
  z.object({ kind: z.literal('apiKey'), id: z.string() }),
  z.object({ kind: z.literal('session'), id: z.string() }),
  z.object({ kind: z.literal('subject'), id: z.string() }),
  z.object({ kind: z.literal('flush') }),
]);

const messageSchema = z.object({ origin: z.string(), change: changeSchema });

/** The published form of a change. */
export function changeMessage(origin: string, change: StateChange): string {
  return JSON.stringify({ origin, change });
}

/** The change in a published message, or `flush` when the message cannot be understood. */
export function parseChangeMessage(text: string): { origin?: string; change: StateChange } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { change: { kind: 'flush' } };
  }
  const parsed = messageSchema.safeParse(json);
  return parsed.success ? parsed.data : { change: { kind: 'flush' } };
}

export interface ChangeFeedOptions {
  readonly channel: string;
  /** This store's id: its own messages are skipped (it told its listeners when it wrote). */
  readonly origin: string;
  /** A new subscriber connection (it starts connecting at once). */
  readonly connect: () => Redis;
  readonly emit: (change: StateChange) => void;
  readonly redactor: Redactor;
  readonly log: StoreLog;
  readonly pingIntervalMs?: number;
}

export class ChangeFeed {
  private connection: Redis | undefined;
  /** The connection whose subscription is active, if any. */
  private subscribedOn: Redis | undefined;
  /** The connection being dropped (see drop), until it is ready again. */
  private dropping: Redis | undefined;
  private lastError: string | undefined;
  private attempts = 0;
  private everSubscribed = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(private readonly options: ChangeFeedOptions) {
    this.pingTimer = setInterval(() => this.ping(), options.pingIntervalMs ?? 5000);
    this.pingTimer.unref();
    this.open();
  }

  /** Whether changes are being heard right now. */
  get subscribed(): boolean {
    return this.subscribedOn !== undefined && this.subscribedOn === this.connection && this.connection.status === 'ready' && this.dropping !== this.connection;
  }

  /** For health details, e.g. "reconnecting; last error: connect ECONNREFUSED 127.0.0.1:7001". */
  describe(): string {
    const status = this.subscribed
      ? 'subscribed'
      : this.dropping !== undefined && this.dropping === this.connection
        ? 'not answering, reconnecting'
        : (this.connection?.status ?? 'waiting to reconnect');
    return this.lastError === undefined || this.subscribed ? status : `${status}; last error: ${this.lastError}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.reconnectTimer);
    this.subscribedOn = undefined;
    this.connection?.disconnect();
  }

  private open(): void {
    if (this.closed) return;
    const connection = this.options.connect();
    this.connection = connection;
    connection.on('ready', () => {
      if (this.dropping === connection) this.dropping = undefined;
      this.subscribe(connection);
    });
    connection.on('message', (channel: string, message: string) => {
      if (channel === this.options.channel && connection === this.connection) this.received(message);
    });
    connection.on('error', (error: Error) => {
      this.lastError = this.options.redactor.redact(error.message);
    });
    connection.on('close', () => {
      if (this.subscribedOn !== connection) return;
      this.subscribedOn = undefined;
      if (!this.closed) this.options.log.warn({ channel: this.options.channel }, 'Redis change feed disconnected; changes made meanwhile will be missed (caches are flushed when it is back)');
    });
    connection.on('end', () => {
      // The connection gave up (cluster node gone): start another one, possibly to another node.
      if (this.closed || connection !== this.connection) return;
      this.reconnectTimer = setTimeout(() => this.open(), reconnectDelay(++this.attempts));
    });
  }

  private subscribe(connection: Redis): void {
    connection.subscribe(this.options.channel).then(
      () => {
        if (this.closed || connection !== this.connection || connection.status !== 'ready') return;
        this.subscribedOn = connection;
        this.attempts = 0;
        if (this.everSubscribed) this.options.log.info({ channel: this.options.channel }, 'Redis change feed subscribed again; flushing caches');
        this.everSubscribed = true;
        this.options.emit({ kind: 'flush' });
      },
      // Try again on a fresh connection (after the connection's own backoff).
      (error: unknown) => this.drop(connection, `SUBSCRIBE failed: ${(error as Error).message}`),
    );
  }

  private received(message: string): void {
    const { origin, change } = parseChangeMessage(message);
    if (origin === this.options.origin) return;
    if (origin === undefined) this.options.log.warn({ channel: this.options.channel }, 'unreadable message on the Redis change channel; flushing caches');
    this.options.emit(change);
  }

  /** Gives up on a connection that seems dead: it reconnects (with backoff) and subscribes afresh. */
  private drop(connection: Redis, reason: string): void {
    this.lastError = this.options.redactor.redact(reason);
    if (this.closed || connection !== this.connection || this.dropping === connection) return;
    this.dropping = connection;
    if (this.subscribedOn === connection) {
      this.subscribedOn = undefined;
      this.options.log.warn({ channel: this.options.channel, err: this.lastError }, 'Redis change feed not answering; reconnecting (caches are flushed when it is back)');
    }
    connection.disconnect(true);
  }

  private ping(): void {
    const connection = this.connection;
    if (!this.subscribed || connection === undefined) return;
    connection.ping().catch((error: unknown) => this.drop(connection, `PING failed: ${(error as Error).message}`));
  }
}
