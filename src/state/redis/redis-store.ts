// The shared store: role bindings, relation tuples, revocations, API keys, sessions and the
// subject directory in Redis, so every replica reads the same state, and every write is published
// on `<keyPrefix>changes` so every replica's cache drops what it affects. Key layout: keys.ts;
// writes: scripts.ts; the connection, seeding and change listeners: connection.ts; the feed:
// change-feed.ts; API keys and sessions: credentials.ts.
//
// Failure behaviour: an operation never waits on Redis for long. While the connection is down it
// fails at once; a command Redis does not answer fails after commandTimeout. Failures reject with
// a RedisStoreError (the pipeline's 503 store_unavailable) whose message names the operation and
// the cause, never a secret. The connection comes back on its own; the store is never recreated.
// Right after start an operation waits (up to connectTimeout) for the first connection.
import type { Cluster, Redis } from 'ioredis';
import { checkApiKeyRecord, checkEpochSeconds as checkRecordTime, checkSessionRecord } from '../credential-records.js';
import {
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
import { BATCH, chunks } from './batch.js';
import { changeMessage } from './change-feed.js';
import { StoreConnection, type RedisStoreOptions } from './connection.js';
import { apiKeyRecords, sessionRecords, type CredentialRecords } from './credentials.js';
import {
  objectMember,
  parseRevocationMember,
  parseRoleMember,
  relationRange,
  revocationMember,
  roleMember,
  splitAtHash,
  subjectMember,
  type RedisKeys,
} from './keys.js';
import { ADD_TUPLE, DELETE_SUBJECT, GRANT_ROLE, PUT_SUBJECT, REMOVE_TUPLE, REVOKE, REVOKE_ROLE, runScript, TOUCH_SESSION } from './scripts.js';
import type { SeedOutcome } from './seed.js';

export type { RedisStoreOptions } from './connection.js';

/** Seconds since the epoch beyond which an expiresAt or before is surely a mistake (year 5138). */
const MAX_EPOCH_SECONDS = 1e11;

export class RedisStore implements StateStore {
  readonly kind: string = 'redis';
  /** This store's id in published changes. */
  readonly origin: string;
  readonly keys: RedisKeys;
  private readonly connection: StoreConnection;
  private readonly client: Redis | Cluster;
  private readonly now: () => number;
  private readonly apiKeys: CredentialRecords<ApiKeyRecord>;
  private readonly sessions: CredentialRecords<SessionRecord>;

  constructor(options: RedisStoreOptions) {
    this.connection = new StoreConnection(options);
    this.origin = this.connection.origin;
    this.keys = this.connection.keys;
    this.client = this.connection.client;
    this.now = this.connection.now;
    this.apiKeys = apiKeyRecords(this.connection);
    this.sessions = sessionRecords(this.connection);
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
    await this.apiKeys.put('putApiKey', record);
  }

  apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.apiKeys.get('apiKey', id);
  }

  deleteApiKey(id: string): Promise<boolean> {
    return this.apiKeys.delete('deleteApiKey', id);
  }

  listApiKeys(subject?: string): Promise<readonly ApiKeyRecord[]> {
    return this.apiKeys.list('listApiKeys', subject);
  }

  async putSession(record: SessionRecord): Promise<void> {
    checkSessionRecord(record);
    await this.sessions.put('putSession', record);
  }

  session(id: string): Promise<SessionRecord | undefined> {
    return this.sessions.get('session', id);
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
    return this.sessions.delete('deleteSession', id);
  }

  listSessions(subject?: string): Promise<readonly SessionRecord[]> {
    return this.sessions.list('listSessions', subject);
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

  // ── changes, health, lifecycle (connection.ts) ──

  onChange(listener: (change: StateChange) => void): void {
    this.connection.onChange(listener);
  }

  health(): StoreHealth {
    return this.connection.health();
  }

  /** Resolves true once connected, false if that takes longer than `timeoutMs` (default: connectTimeout). */
  connected(timeoutMs?: number): Promise<boolean> {
    return this.connection.connected(timeoutMs);
  }

  /** The seeding's outcome once it is done (undefined without a seed); seeding retries until it is. */
  whenSeeded(): Promise<SeedOutcome | undefined> {
    return this.connection.whenSeeded();
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  // ── internals ──

  private run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return this.connection.run(operation, work);
  }

  private emit(change: StateChange): void {
    this.connection.emit(change);
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

  private tupleKeys(tuple: RelationTuple): string[] {
    return [this.keys.objectTuples(tuple.object), this.keys.subjectTuples(tuple.subject), this.keys.tupleObjects];
  }

  private tupleArgs(tuple: RelationTuple, change: StateChange): string[] {
    return [objectMember(tuple), subjectMember(tuple), tuple.object, this.keys.channel, changeMessage(this.origin, change)];
  }
}

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

function compareBindings(a: RoleBinding, b: RoleBinding): number {
  return compare(a.subject, b.subject) || compare(a.service ?? '', b.service ?? '') || compare(a.role, b.role);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
