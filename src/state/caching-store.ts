// A StateStore in front of a shared (remote) store: the common read costs no round trip, and no
// cached answer survives the change that outdates it.
//
// Six bounded LRU caches (read-cache.ts) hold the answers of rolesFor (per subject and service),
// subjectsOf (per object#relation), revocationFor (per token: subject, jti, sid and iat), apiKey,
// session and subjectProperties (per id), "none" answers included: "not revoked" is the common case, and an unknown
// API key id should not cost a round trip each time it is tried. Each answer is fresh for `ttlMs`,
// a bound on staleness even if change messages were lost.
//
// The backing store's change feed invalidates: roles → every answer for that subject (all
// services); tuples → that object#relation; revocation → every token answer with that jti, sid or
// subject; apiKey / session → that id (so a deleted key or session is refused by every replica at
// once); subject → that subject's directory record; flush → everything. A read in flight when
// its key is invalidated never enters the cache, and later callers do not join it. Every change is then passed on to this store's listeners.
//
// While the backing store reports itself unhealthy (e.g. its change feed is down, so changes may be
// missed), cached answers are not used as fresh: every read goes to the backing store. When a read
// fails, a caller that allows it (ReadOptions.maxStaleMs) gets a cached answer at most that old;
// everyone else gets the error (the pipeline's 503 store_unavailable).
import type { JsonObject } from '../access/types.js';
import { ReadCache } from './read-cache.js';
import type { SubjectListOptions, SubjectPage } from './subject-records.js';
import { NO_OBSERVER, type StoreObserver } from './store-observer.js';
import {
  revocationApplies,
  type ApiKeyRecord,
  type ReadOptions,
  type RelationTuple,
  type Revocation,
  type RoleBinding,
  type SessionRecord,
  type StateChange,
  type StateStore,
  type StoreHealth,
  type TokenFacts,
  type TupleFilter,
} from './store.js';

export interface CacheSettings {
  /** Answers held per cache (roles, tuples, revocations, API keys, sessions, subjects each). */
  readonly maxEntries: number;
  /** How long an answer is used without asking the backing store (ms). */
  readonly ttl: number;
}

export const DEFAULT_CACHE_SETTINGS: CacheSettings = { maxEntries: 10_000, ttl: 30_000 };

export interface CachingStoreOptions extends Partial<CacheSettings> {
  readonly observer?: StoreObserver;
  readonly now?: () => number;
}

export class CachingStore implements StateStore {
  readonly kind: string;
  private readonly roles: ReadCache<ReadonlySet<string>>;
  private readonly tuples: ReadCache<readonly string[]>;
  private readonly revocations: ReadCache<Revocation | undefined>;
  private readonly apiKeys: ReadCache<ApiKeyRecord | undefined>;
  private readonly sessions: ReadCache<SessionRecord | undefined>;
  private readonly subjects: ReadCache<JsonObject | undefined>;
  private readonly listeners: ((change: StateChange) => void)[] = [];
  private readonly observer: StoreObserver;
  private readonly now: () => number;

  constructor(
    readonly inner: StateStore,
    options: CachingStoreOptions = {},
  ) {
    this.kind = inner.kind;
    this.observer = options.observer ?? NO_OBSERVER;
    this.now = options.now ?? Date.now;
    const cacheOptions = {
      maxEntries: options.maxEntries ?? DEFAULT_CACHE_SETTINGS.maxEntries,
      ttlMs: options.ttl ?? DEFAULT_CACHE_SETTINGS.ttl,
      now: this.now,
      observer: this.observer,
      trusted: () => inner.health().healthy,
    };
    this.roles = new ReadCache('rolesFor', cacheOptions);
    this.tuples = new ReadCache('subjectsOf', cacheOptions);
    this.revocations = new ReadCache('revocationFor', cacheOptions);
    this.apiKeys = new ReadCache('apiKey', cacheOptions);
    this.sessions = new ReadCache('session', cacheOptions);
    this.subjects = new ReadCache('subjectProperties', cacheOptions);
    inner.onChange((change) => this.changed(change));
  }

  rolesFor(subject: string, service: string, options?: ReadOptions): Promise<ReadonlySet<string>> {
    // A copy: a store may hand out a set it later changes in place (the memory store does).
    const load = async () => new Set(await this.inner.rolesFor(subject, service));
    return this.roles.read(JSON.stringify([subject, service]), [subject], load, options);
  }

  subjectsOf(object: string, relation: string, options?: ReadOptions): Promise<readonly string[]> {
    const key = tupleKey(object, relation);
    return this.tuples.read(key, [key], async () => [...(await this.inner.subjectsOf(object, relation))], options);
  }

  async revocationFor(token: TokenFacts, options?: ReadOptions): Promise<Revocation | undefined> {
    const facts: TokenFacts = {
      subject: token.subject,
      ...(token.jti !== undefined && { jti: token.jti }),
      ...(token.issuedAt !== undefined && { issuedAt: token.issuedAt }),
      ...(token.sid !== undefined && { sid: token.sid }),
    };
    const key = JSON.stringify([facts.subject, facts.jti ?? null, facts.sid ?? null, facts.issuedAt ?? null]);
    const revocation = await this.revocations.read(key, revocationTags(facts), () => this.inner.revocationFor(facts), options);
    // A cached revocation stops applying when it expires.
    return revocation !== undefined && revocationApplies(revocation, facts, Math.floor(this.now() / 1000)) ? revocation : undefined;
  }

  apiKey(id: string, options?: ReadOptions): Promise<ApiKeyRecord | undefined> {
    return this.apiKeys.read(id, [id], () => this.inner.apiKey(id), options);
  }

  session(id: string, options?: ReadOptions): Promise<SessionRecord | undefined> {
    return this.sessions.read(id, [id], () => this.inner.session(id), options);
  }

  subjectProperties(id: string, options?: ReadOptions): Promise<JsonObject | undefined> {
    return this.subjects.read(id, [id], () => this.inner.subjectProperties(id), options);
  }

  // Writes go to the backing store. Its change feed invalidates every replica's cache; this one is
  // also invalidated as soon as the write is done (or has failed: it may still have been applied),
  // so this process reads its own writes.

  grantRole(binding: RoleBinding): Promise<void> {
    return this.write({ kind: 'roles', subject: binding.subject }, () => this.inner.grantRole(binding));
  }

  revokeRole(binding: RoleBinding): Promise<void> {
    return this.write({ kind: 'roles', subject: binding.subject }, () => this.inner.revokeRole(binding));
  }

  listRoleBindings(subject?: string): Promise<readonly RoleBinding[]> {
    return this.inner.listRoleBindings(subject);
  }

  addTuple(tuple: RelationTuple): Promise<void> {
    return this.write({ kind: 'tuples', object: tuple.object, relation: tuple.relation }, () => this.inner.addTuple(tuple));
  }

  removeTuple(tuple: RelationTuple): Promise<void> {
    return this.write({ kind: 'tuples', object: tuple.object, relation: tuple.relation }, () => this.inner.removeTuple(tuple));
  }

  listTuples(filter?: TupleFilter): Promise<readonly RelationTuple[]> {
    return this.inner.listTuples(filter);
  }

  revoke(revocation: Revocation): Promise<void> {
    return this.write({ kind: 'revocation', revocation }, () => this.inner.revoke(revocation));
  }

  listRevocations(): Promise<readonly Revocation[]> {
    return this.inner.listRevocations();
  }

  putApiKey(record: ApiKeyRecord): Promise<void> {
    return this.write({ kind: 'apiKey', id: record.id }, () => this.inner.putApiKey(record));
  }

  deleteApiKey(id: string): Promise<boolean> {
    return this.write({ kind: 'apiKey', id }, () => this.inner.deleteApiKey(id));
  }

  listApiKeys(subject?: string): Promise<readonly ApiKeyRecord[]> {
    return this.inner.listApiKeys(subject);
  }

  putSession(record: SessionRecord): Promise<void> {
    return this.write({ kind: 'session', id: record.id }, () => this.inner.putSession(record));
  }

  touchSession(id: string, lastSeenAt: number): Promise<void> {
    return this.write({ kind: 'session', id }, () => this.inner.touchSession(id, lastSeenAt));
  }

  deleteSession(id: string): Promise<boolean> {
    return this.write({ kind: 'session', id }, () => this.inner.deleteSession(id));
  }

  listSessions(subject?: string): Promise<readonly SessionRecord[]> {
    return this.inner.listSessions(subject);
  }

  putSubject(id: string, properties: JsonObject): Promise<void> {
    return this.write({ kind: 'subject', id }, () => this.inner.putSubject(id, properties));
  }

  deleteSubject(id: string): Promise<boolean> {
    return this.write({ kind: 'subject', id }, () => this.inner.deleteSubject(id));
  }

  listSubjects(options?: SubjectListOptions): Promise<SubjectPage> {
    return this.inner.listSubjects(options);
  }

  onChange(listener: (change: StateChange) => void): void {
    this.listeners.push(listener);
  }

  health(): StoreHealth {
    return this.inner.health();
  }

  async close(): Promise<void> {
    this.invalidate({ kind: 'flush' });
    await this.inner.close();
  }

  /** Cached answers per cache, for tests and diagnostics. */
  get sizes(): { readonly roles: number; readonly tuples: number; readonly revocations: number; readonly apiKeys: number; readonly sessions: number; readonly subjects: number } {
    return {
      roles: this.roles.size,
      tuples: this.tuples.size,
      revocations: this.revocations.size,
      apiKeys: this.apiKeys.size,
      sessions: this.sessions.size,
      subjects: this.subjects.size,
    };
  }

  private async write<T>(change: StateChange, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.invalidate(change);
    }
  }

  /** A change from the backing store's feed: invalidate first, then tell the listeners. */
  private changed(change: StateChange): void {
    this.invalidate(change);
    this.observer.invalidation(change.kind);
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener must not stop the others (or the invalidation) from seeing the change.
      }
    }
  }

  private invalidate(change: StateChange): void {
    switch (change.kind) {
      case 'roles':
        return this.roles.invalidate(change.subject);
      case 'tuples':
        return this.tuples.invalidate(tupleKey(change.object, change.relation));
      case 'revocation':
        return this.revocations.invalidate(revocationTag(change.revocation.kind, change.revocation.id));
      case 'apiKey':
        return this.apiKeys.invalidate(change.id);
      case 'session':
        return this.sessions.invalidate(change.id);
      case 'subject':
        return this.subjects.invalidate(change.id);
      case 'flush':
        this.roles.clear();
        this.tuples.clear();
        this.revocations.clear();
        this.apiKeys.clear();
        this.sessions.clear();
        this.subjects.clear();
        return;
    }
  }
}

function tupleKey(object: string, relation: string): string {
  return JSON.stringify([object, relation]);
}

function revocationTag(kind: Revocation['kind'], id: string): string {
  return `${kind}:${id}`;
}

/** Each revocation that could apply to the token: by jti, by sid, by subject. */
function revocationTags(token: TokenFacts): string[] {
  const tags = [revocationTag('subject', token.subject)];
  if (token.jti !== undefined) tags.push(revocationTag('token', token.jti));
  if (token.sid !== undefined) tags.push(revocationTag('session', token.sid));
  return tags;
}
