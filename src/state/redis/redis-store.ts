// The shared store: role bindings, relation tuples, revocations, API keys, sessions and the
// subject directory in Redis, so every replica reads the same state, and every write is published
// on `<keyPrefix>changes` so every replica's cache drops what it affects. Key layout: keys.ts;
// writes: scripts.ts; the feed: change-feed.ts.
//
// Failure behaviour: an operation never waits on Redis for long. While the connection is down it
// fails at once; a command Redis does not answer fails after commandTimeout. Failures reject with
// a RedisStoreError (the pipeline's 503 store_unavailable) whose message names the operation and
// the cause, never a secret. The connection comes back on its own; the store is never recreated.
// Right after start an operation waits (up to connectTimeout) for the first connection.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { RedisStoreSettings } from '../../config/redis-store-settings.js';
import { checkApiKeyRecord, checkEpochSeconds as checkRecordTime, checkSessionRecord } from '../credential-records.js';
import type { Seed } from '../seed-file.js';
import {
  compareRecords,
  recordDropTime,
  revocationApplies,
  type ApiKeyRecord,
  type RelationTuple,
  type Revocation,
  type RoleBinding,
  type SessionRecord,
  type StateChange,
  type StateStore,
  type StoreHealth,
  type TokenFacts,
  type TupleFilter,
} from '../store.js';
import type { JsonObject } from '../../access/types.js';
import { checkSubjectRecord, parseStoredProperties, subjectPageSize, type SubjectListOptions, type SubjectPage, type SubjectRecord } from '../subject-records.js';
import { tupleProblem } from '../tuple.js';
import { ChangeFeed, changeMessage } from './change-feed.js';
import { createCommandClient, planConnection, reconnectDelay, subscriberFactory, type ConnectionPlan, type PlanEnvironment } from './client.js';
import { Redactor, RedisStoreError, storeFailure, type FailureContext } from './errors.js';
import {
  objectMember,
  parseRevocationMember,
  parseRoleMember,
  redisKeys,
  relationRange,
  revocationMember,
  roleMember,
  splitAtHash,
  subjectMember,
  type RedisKeys,
} from './keys.js';
import { API_KEY_FIELDS, apiKeyFields, SESSION_FIELDS, sessionFields, toApiKey, toSession } from './records.js';
import { ADD_TUPLE, DELETE_RECORD, DELETE_SUBJECT, GRANT_ROLE, PUT_RECORD, PUT_SUBJECT, REMOVE_TUPLE, REVOKE, REVOKE_ROLE, runScript, TOUCH_SESSION } from './scripts.js';
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

/** Batch size for listing (SSCAN COUNT and parallel reads). */
const BATCH = 500;
/** Seconds since the epoch beyond which an expiresAt or before is surely a mistake (year 5138). */
const MAX_EPOCH_SECONDS = 1e11;

export class RedisStore implements StateStore {
  readonly kind: string = 'redis';
  /** This store's id in published changes. */
  readonly origin = randomUUID();
  readonly keys: RedisKeys;
  private readonly plan: ConnectionPlan;
  private readonly client: Redis | Cluster;
  private readonly redactor: Redactor;
  private readonly failure: FailureContext;
  private readonly log: StoreLog;
  private readonly now: () => number;
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

  // ── roles ──

  async rolesFor(subject: string, service: string): Promise<ReadonlySet<string>> {
    const members = await this.run('rolesFor', () => this.client.smembers(this.keys.roles(subject)));
    const roles = new Set<string>();
    for (const member of members) {
      const binding = parseRoleMember(subject, member);
      if (binding && (binding.service === undefined || binding.service === service)) roles.add(binding.role);
    }
    return roles;
  }

  async grantRole(binding: RoleBinding): Promise<void> {
    const change: StateChange = { kind: 'roles', subject: binding.subject };
    const added = await this.run('grantRole', () =>
      runScript(this.client, GRANT_ROLE, [this.keys.roles(binding.subject), this.keys.roleSubjects], [roleMember(binding), binding.subject, this.keys.channel, changeMessage(this.origin, change)]),
    );
    if (added === 1) this.emit(change);
  }

  async revokeRole(binding: RoleBinding): Promise<void> {
    const change: StateChange = { kind: 'roles', subject: binding.subject };
    const removed = await this.run('revokeRole', () =>
      runScript(this.client, REVOKE_ROLE, [this.keys.roles(binding.subject), this.keys.roleSubjects], [roleMember(binding), binding.subject, this.keys.channel, changeMessage(this.origin, change)]),
    );
    if (removed === 1) this.emit(change);
  }

  async listRoleBindings(subject?: string): Promise<readonly RoleBinding[]> {
    const subjects = subject === undefined ? await this.scanSet('listRoleBindings', this.keys.roleSubjects) : [subject];
    const out: RoleBinding[] = [];
    for (const batch of chunks(subjects)) {
      const members = await this.run('listRoleBindings', () => Promise.all(batch.map((who) => this.client.smembers(this.keys.roles(who)))));
      batch.forEach((who, index) => {
        for (const member of members[index] ?? []) {
          const binding = parseRoleMember(who, member);
          if (binding) out.push(binding);
        }
      });
    }
    return out.sort(compareBindings);
  }

  // ── tuples ──

  async subjectsOf(object: string, relation: string): Promise<readonly string[]> {
    const members = await this.run('subjectsOf', () => this.client.zrangebylex(this.keys.objectTuples(object), ...relationRange(relation)));
    const skip = relation.length + 1;
    return members.map((member) => member.slice(skip));
  }

  async addTuple(tuple: RelationTuple): Promise<void> {
    const problem = tupleProblem(tuple);
    if (problem !== undefined) throw new TypeError(`invalid relation tuple: ${problem}`);
    const change: StateChange = { kind: 'tuples', object: tuple.object, relation: tuple.relation };
    const added = await this.run('addTuple', () => runScript(this.client, ADD_TUPLE, this.tupleKeys(tuple), this.tupleArgs(tuple, change)));
    if (added === 1) this.emit(change);
  }

  async removeTuple(tuple: RelationTuple): Promise<void> {
    const change: StateChange = { kind: 'tuples', object: tuple.object, relation: tuple.relation };
    const removed = await this.run('removeTuple', () => runScript(this.client, REMOVE_TUPLE, this.tupleKeys(tuple), this.tupleArgs(tuple, change)));
    if (removed === 1) this.emit(change);
  }

  async listTuples({ object, relation, subject }: TupleFilter = {}): Promise<readonly RelationTuple[]> {
    const out: RelationTuple[] = [];
    if (object === undefined && subject !== undefined) {
      // By subject: only that subject's index is read.
      const members = await this.run('listTuples', () => this.client.zrange(this.keys.subjectTuples(subject), '0', '-1'));
      for (const member of members) {
        const [obj, rel] = splitAtHash(member) ?? [];
        if (obj !== undefined && rel !== undefined && (relation === undefined || rel === relation)) out.push({ object: obj, relation: rel, subject });
      }
      return out;
    }
    const objects = object === undefined ? await this.scanSet('listTuples', this.keys.tupleObjects) : [object];
    for (const batch of chunks(objects)) {
      const members = await this.run('listTuples', () =>
        Promise.all(
          batch.map((obj) =>
            relation === undefined ? this.client.zrange(this.keys.objectTuples(obj), '0', '-1') : this.client.zrangebylex(this.keys.objectTuples(obj), ...relationRange(relation)),
          ),
        ),
      );
      batch.forEach((obj, index) => {
        for (const member of members[index] ?? []) {
          const [rel, sub] = splitAtHash(member) ?? [];
          if (rel !== undefined && sub !== undefined && (subject === undefined || sub === subject)) out.push({ object: obj, relation: rel, subject: sub });
        }
      });
    }
    return out;
  }

  // ── revocations ──

  async revoke(revocation: Revocation): Promise<void> {
    const { kind, id, before, expiresAt } = revocation;
    if (kind !== 'token' && kind !== 'subject' && kind !== 'session') throw new TypeError(`invalid revocation kind "${String(kind)}"`);
    if (typeof id !== 'string' || id === '') throw new TypeError('a revocation needs an id');
    checkEpochSeconds('expiresAt', expiresAt);
    if (before !== undefined) checkEpochSeconds('before', before);
    const change: StateChange = { kind: 'revocation', revocation };
    await this.run('revoke', () =>
      runScript(
        this.client,
        REVOKE,
        [this.keys.revocation(kind, id), this.keys.revocations],
        [revocationMember(kind, id), String(expiresAt), before === undefined ? '' : String(before), this.keys.channel, changeMessage(this.origin, change)],
      ),
    );
    this.emit(change);
  }

  async revocationFor(token: TokenFacts): Promise<Revocation | undefined> {
    const candidates: [Revocation['kind'], string][] = [];
    if (token.jti !== undefined) candidates.push(['token', token.jti]);
    if (token.sid !== undefined) candidates.push(['session', token.sid]);
    candidates.push(['subject', token.subject]);
    const entries = await this.run('revocationFor', () => Promise.all(candidates.map(([kind, id]) => this.client.hmget(this.keys.revocation(kind, id), 'expiresAt', 'before'))));
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const [index, [kind, id]] of candidates.entries()) {
      const revocation = toRevocation(kind, id, entries[index]);
      if (revocation && revocationApplies(revocation, token, nowSeconds)) return revocation;
    }
    return undefined;
  }

  async listRevocations(): Promise<readonly Revocation[]> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const members = await this.run('listRevocations', () => this.client.zrangebyscore(this.keys.revocations, `(${nowSeconds}`, '+inf'));
    const out: Revocation[] = [];
    for (const batch of chunks(members)) {
      const parsed = batch.map(parseRevocationMember).filter((entry) => entry !== undefined);
      const entries = await this.run('listRevocations', () => Promise.all(parsed.map(({ kind, id }) => this.client.hmget(this.keys.revocation(kind, id), 'expiresAt', 'before'))));
      parsed.forEach(({ kind, id }, index) => {
        const revocation = toRevocation(kind, id, entries[index]);
        // The key may have expired between the two reads; an entry past expiresAt is gone.
        if (revocation && revocation.expiresAt > nowSeconds) out.push(revocation);
      });
    }
    return out;
  }

  // ── API keys and sessions ──

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    checkApiKeyRecord(record);
    await this.putRecord('putApiKey', { kind: 'apiKey', id: record.id }, this.apiKeyLayout, record, apiKeyFields(record));
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const values = await this.run('apiKey', () => this.client.hmget(this.keys.apiKey(id), ...API_KEY_FIELDS));
    return this.unlessDropped(toApiKey(id, values));
  }

  deleteApiKey(id: string): Promise<boolean> {
    return this.deleteRecord('deleteApiKey', { kind: 'apiKey', id }, this.apiKeyLayout, id);
  }

  listApiKeys(subject?: string): Promise<readonly ApiKeyRecord[]> {
    return this.listRecords('listApiKeys', this.apiKeyLayout, API_KEY_FIELDS, toApiKey, subject);
  }

  async putSession(record: SessionRecord): Promise<void> {
    checkSessionRecord(record);
    await this.putRecord('putSession', { kind: 'session', id: record.id }, this.sessionLayout, record, sessionFields(record));
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    const values = await this.run('session', () => this.client.hmget(this.keys.session(id), ...SESSION_FIELDS));
    return this.unlessDropped(toSession(id, values));
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    checkRecordTime('lastSeenAt', lastSeenAt);
    const change: StateChange = { kind: 'session', id };
    const touched = await this.run('touchSession', () =>
      runScript(this.client, TOUCH_SESSION, [this.keys.session(id)], [String(lastSeenAt), this.keys.channel, changeMessage(this.origin, change)]),
    );
    if (touched === 1) this.emit(change);
  }

  deleteSession(id: string): Promise<boolean> {
    return this.deleteRecord('deleteSession', { kind: 'session', id }, this.sessionLayout, id);
  }

  listSessions(subject?: string): Promise<readonly SessionRecord[]> {
    return this.listRecords('listSessions', this.sessionLayout, SESSION_FIELDS, toSession, subject);
  }

  // ── the subject directory ──

  async subjectProperties(id: string): Promise<JsonObject | undefined> {
    const text = await this.run('subjectProperties', () => this.client.get(this.keys.subject(id)));
    return parseStoredProperties(text);
  }

  async putSubject(id: string, properties: JsonObject): Promise<void> {
    checkSubjectRecord(id, properties);
    const change: StateChange = { kind: 'subject', id };
    await this.run('putSubject', () =>
      runScript(this.client, PUT_SUBJECT, [this.keys.subject(id), this.keys.subjects], [id, JSON.stringify(properties), this.keys.channel, changeMessage(this.origin, change)]),
    );
    this.emit(change);
  }

  async deleteSubject(id: string): Promise<boolean> {
    const change: StateChange = { kind: 'subject', id };
    const deleted = await this.run('deleteSubject', () =>
      runScript(this.client, DELETE_SUBJECT, [this.keys.subject(id), this.keys.subjects], [id, this.keys.channel, changeMessage(this.origin, change)]),
    );
    if (deleted === 1) this.emit(change);
    return deleted === 1;
  }

  async listSubjects(options: SubjectListOptions = {}): Promise<SubjectPage> {
    const limit = subjectPageSize(options.limit);
    const from = options.cursor === undefined ? '-' : `(${options.cursor}`;
    // One more than a page: whether there is a next page, without a second round trip.
    const ids = await this.run('listSubjects', () => this.client.zrangebylex(this.keys.subjects, from, '+', 'LIMIT', 0, limit + 1));
    const page = ids.slice(0, limit);
    const texts = await this.run('listSubjects', () => Promise.all(page.map((id) => this.client.get(this.keys.subject(id)))));
    const subjects: SubjectRecord[] = [];
    page.forEach((id, index) => {
      const properties = parseStoredProperties(texts[index]);
      if (properties !== undefined) subjects.push({ id, properties });
    });
    return ids.length > limit ? { subjects, next: page[page.length - 1]! } : { subjects };
  }

  // ── changes, health, lifecycle ──

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

  // ── internals ──

  /** Runs one store operation: waits for the first connection at start, maps failures to RedisStoreError. */
  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new RedisStoreError(`Redis ${operation} failed: the store is closed`);
    await this.startup;
    try {
      return await work();
    } catch (error) {
      throw storeFailure(operation, error, this.failure);
    }
  }

  /** Every member of a (possibly large) set, read in SSCAN batches so Redis is never blocked long. */
  private async scanSet(operation: string, key: string): Promise<string[]> {
    const out = new Set<string>();
    let cursor = '0';
    do {
      const [next, members] = await this.run(operation, () => this.client.sscan(key, cursor, 'COUNT', BATCH));
      for (const member of members) out.add(member);
      cursor = next;
    } while (cursor !== '0');
    return [...out];
  }

  private readonly apiKeyLayout: RecordLayout = {
    record: (id) => this.keys.apiKey(id),
    index: () => this.keys.apiKeys,
    subjectIndex: (subject) => this.keys.subjectApiKeys(subject),
  };

  private readonly sessionLayout: RecordLayout = {
    record: (id) => this.keys.session(id),
    index: () => this.keys.sessions,
    subjectIndex: (subject) => this.keys.subjectSessions(subject),
  };

  private async putRecord(operation: string, change: StateChange, layout: RecordLayout, record: StoredRecord, fields: string[]): Promise<void> {
    const drop = recordDropTime(record.expiresAt);
    await this.run(operation, () =>
      runScript(
        this.client,
        PUT_RECORD,
        [layout.record(record.id), layout.index(), layout.subjectIndex(record.subject)],
        [record.id, drop === Infinity ? 'inf' : String(drop), this.keys.channel, changeMessage(this.origin, change), ...fields],
      ),
    );
    this.emit(change);
  }

  private async deleteRecord(operation: string, change: StateChange, layout: RecordLayout, id: string): Promise<boolean> {
    // The subject's index is named by the record's subject: read it first (a record's subject never
    // changes in practice; a stale index member is filtered out when listing and expires anyway).
    const [subject] = await this.run(operation, () => this.client.hmget(layout.record(id), 'subject'));
    const keys = [layout.record(id), layout.index(), ...(subject === null || subject === undefined ? [] : [layout.subjectIndex(subject)])];
    const deleted = await this.run(operation, () => runScript(this.client, DELETE_RECORD, keys, [id, this.keys.channel, changeMessage(this.origin, change)]));
    if (deleted === 1) this.emit(change);
    return deleted === 1;
  }

  private async listRecords<R extends StoredRecord>(
    operation: string,
    layout: RecordLayout,
    fields: readonly string[],
    parse: (id: string, values: readonly (string | null)[] | undefined) => R | undefined,
    subject: string | undefined,
  ): Promise<R[]> {
    const nowSeconds = this.now() / 1000;
    const index = subject === undefined ? layout.index() : layout.subjectIndex(subject);
    const ids = await this.run(operation, () => this.client.zrangebyscore(index, `(${Math.floor(nowSeconds)}`, '+inf'));
    const out: R[] = [];
    for (const batch of chunks(ids)) {
      const values = await this.run(operation, () => Promise.all(batch.map((id) => this.client.hmget(layout.record(id), ...fields))));
      batch.forEach((id, position) => {
        const record = this.unlessDropped(parse(id, values[position]));
        if (record !== undefined && (subject === undefined || record.subject === subject)) out.push(record);
      });
    }
    return out.sort(compareRecords);
  }

  /** A record past its drop time is gone, whether or not Redis has expired the key yet. */
  private unlessDropped<R extends StoredRecord>(record: R | undefined): R | undefined {
    return record !== undefined && recordDropTime(record.expiresAt) > this.now() / 1000 ? record : undefined;
  }

  private tupleKeys(tuple: RelationTuple): string[] {
    return [this.keys.objectTuples(tuple.object), this.keys.subjectTuples(tuple.subject), this.keys.tupleObjects];
  }

  private tupleArgs(tuple: RelationTuple, change: StateChange): string[] {
    return [objectMember(tuple), subjectMember(tuple), tuple.object, this.keys.channel, changeMessage(this.origin, change)];
  }

  private emit(change: StateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.warn({ err: (error as Error).message, change: change.kind }, 'a store change listener failed');
      }
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

/** Where one kind of record lives (keys.ts). */
interface RecordLayout {
  record(id: string): string;
  index(): string;
  subjectIndex(subject: string): string;
}

type StoredRecord = { readonly id: string; readonly subject: string; readonly createdAt: number; readonly expiresAt?: number };

function toRevocation(kind: Revocation['kind'], id: string, fields: readonly (string | null)[] | undefined): Revocation | undefined {
  const expiresAt = fields?.[0];
  if (expiresAt === null || expiresAt === undefined) return undefined;
  const before = fields?.[1];
  return { kind, id, ...(before !== null && before !== undefined && before !== '' && { before: Number(before) }), expiresAt: Number(expiresAt) };
}

function checkEpochSeconds(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_EPOCH_SECONDS) {
    throw new TypeError(`revocation ${name} must be seconds since the epoch, got ${String(value)}`);
  }
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += BATCH) out.push(items.slice(start, start + BATCH));
  return out;
}

function compareBindings(a: RoleBinding, b: RoleBinding): number {
  return compare(a.subject, b.subject) || compare(a.service ?? '', b.service ?? '') || compare(a.role, b.role);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
