// The embedded default store: process memory, seeded from the seed file. Changes are live for
// this process only; use the Redis store to share state between replicas.
import { checkApiKeyRecord, checkEpochSeconds, checkSessionRecord } from './credential-records.js';
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
} from './store.js';
import type { JsonObject } from '../access/types.js';
import { checkSubjectRecord, frozenProperties, subjectPageSize, type SubjectListOptions, type SubjectPage, type SubjectRecord } from './subject-records.js';
import { tupleProblem } from './tuple.js';

const GLOBAL = '';

export class MemoryStore implements StateStore {
  readonly kind: string = 'memory';
  /** subject → service ('' for global) → roles */
  private readonly roles = new Map<string, Map<string, Set<string>>>();
  /** Tuples indexed both ways: object → relation → subjects, and subject → object → relations. */
  private readonly byObject = new Map<string, Map<string, Set<string>>>();
  private readonly bySubject = new Map<string, Map<string, Set<string>>>();
  /** Revocations by kind and id; a subject keeps the latest `before`. */
  private readonly revocations = new Map<Revocation['kind'], Map<string, Revocation>>([['token', new Map()], ['subject', new Map()], ['session', new Map()]]);
  private readonly apiKeys = new Map<string, ApiKeyRecord>();
  private readonly sessions = new Map<string, SessionRecord>();
  /** The subject directory: id → frozen properties. */
  private readonly subjects = new Map<string, JsonObject>();
  private readonly listeners: ((change: StateChange) => void)[] = [];
  private readonly now: () => number;

  constructor(bindings: readonly RoleBinding[] = [], tuples: readonly RelationTuple[] = [], now: () => number = Date.now, subjects: readonly SubjectRecord[] = []) {
    this.now = now;
    for (const binding of bindings) this.addBinding(binding);
    for (const tuple of tuples) this.insertTuple(tuple);
    for (const { id, properties } of subjects) this.setSubject(id, properties);
  }

  async rolesFor(subject: string, service: string): Promise<ReadonlySet<string>> {
    const byService = this.roles.get(subject);
    if (!byService) return EMPTY;
    const global = byService.get(GLOBAL);
    const scoped = byService.get(service);
    if (!scoped) return global ?? EMPTY;
    if (!global) return scoped;
    return new Set([...global, ...scoped]);
  }

  async grantRole(binding: RoleBinding): Promise<void> {
    this.addBinding(binding);
    this.emit({ kind: 'roles', subject: binding.subject });
  }

  async revokeRole({ subject, role, service }: RoleBinding): Promise<void> {
    this.roles.get(subject)?.get(service ?? GLOBAL)?.delete(role);
    this.emit({ kind: 'roles', subject });
  }

  async listRoleBindings(subject?: string): Promise<readonly RoleBinding[]> {
    const out: RoleBinding[] = [];
    for (const [who, byService] of this.roles) {
      if (subject !== undefined && who !== subject) continue;
      for (const [service, roles] of byService) {
        for (const role of roles) out.push(service === GLOBAL ? { subject: who, role } : { subject: who, role, service });
      }
    }
    return out;
  }

  async subjectsOf(object: string, relation: string): Promise<readonly string[]> {
    const subjects = this.byObject.get(object)?.get(relation);
    return subjects ? [...subjects] : [];
  }

  async addTuple(tuple: RelationTuple): Promise<void> {
    this.insertTuple(tuple);
    this.emit({ kind: 'tuples', object: tuple.object, relation: tuple.relation });
  }

  async removeTuple({ object, relation, subject }: RelationTuple): Promise<void> {
    if (!removeFrom(this.byObject, object, relation, subject)) return;
    removeFrom(this.bySubject, subject, object, relation);
    this.emit({ kind: 'tuples', object, relation });
  }

  async listTuples({ object, relation, subject }: TupleFilter = {}): Promise<readonly RelationTuple[]> {
    const out: RelationTuple[] = [];
    const take = (obj: string, rel: string, sub: string) => {
      if ((relation === undefined || rel === relation) && (subject === undefined || sub === subject)) out.push({ object: obj, relation: rel, subject: sub });
    };
    if (object === undefined && subject !== undefined) {
      // By subject: only that subject's tuples are visited.
      for (const [obj, relations] of this.bySubject.get(subject) ?? []) for (const rel of relations) take(obj, rel, subject);
      return out;
    }
    const objects = object === undefined ? this.byObject : new Map([[object, this.byObject.get(object) ?? new Map<string, Set<string>>()]]);
    for (const [obj, relations] of objects) {
      for (const [rel, subjects] of relations) for (const sub of subjects) take(obj, rel, sub);
    }
    return out;
  }

  async revoke(revocation: Revocation): Promise<void> {
    const byId = this.revocations.get(revocation.kind)!;
    const existing = byId.get(revocation.id);
    byId.set(revocation.id, existing ? mergeRevocations(existing, revocation) : revocation);
    this.emit({ kind: 'revocation', revocation });
  }

  async revocationFor(token: TokenFacts): Promise<Revocation | undefined> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const candidates = [
      token.jti === undefined ? undefined : this.revocations.get('token')!.get(token.jti),
      token.sid === undefined ? undefined : this.revocations.get('session')!.get(token.sid),
      this.revocations.get('subject')!.get(token.subject),
    ];
    return candidates.find((revocation) => revocation !== undefined && revocationApplies(revocation, token, nowSeconds));
  }

  async listRevocations(): Promise<readonly Revocation[]> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const out: Revocation[] = [];
    for (const byId of this.revocations.values()) {
      for (const [id, revocation] of byId) {
        // Expired entries can match no valid token any more: drop them as they are found.
        if (revocation.expiresAt <= nowSeconds) byId.delete(id);
        else out.push(revocation);
      }
    }
    return out;
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    checkApiKeyRecord(record);
    this.apiKeys.set(record.id, Object.freeze({ ...record, scopes: Object.freeze([...record.scopes]) }));
    this.emit({ kind: 'apiKey', id: record.id });
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.live(this.apiKeys, id);
  }

  async deleteApiKey(id: string): Promise<boolean> {
    const existed = this.apiKeys.delete(id);
    if (existed) this.emit({ kind: 'apiKey', id });
    return existed;
  }

  async listApiKeys(subject?: string): Promise<readonly ApiKeyRecord[]> {
    return this.listLive(this.apiKeys, subject);
  }

  async putSession(record: SessionRecord): Promise<void> {
    checkSessionRecord(record);
    const claims = record.claims && Object.freeze({ ...record.claims, ...(record.claims.amr && { amr: Object.freeze([...record.claims.amr]) }) });
    this.sessions.set(record.id, Object.freeze({ ...record, ...(claims && { claims }) }));
    this.emit({ kind: 'session', id: record.id });
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    return this.live(this.sessions, id);
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    checkEpochSeconds('lastSeenAt', lastSeenAt);
    const session = this.live(this.sessions, id);
    if (session === undefined || session.lastSeenAt >= lastSeenAt) return;
    this.sessions.set(id, Object.freeze({ ...session, lastSeenAt }));
    this.emit({ kind: 'session', id });
  }

  async deleteSession(id: string): Promise<boolean> {
    const existed = this.sessions.delete(id);
    if (existed) this.emit({ kind: 'session', id });
    return existed;
  }

  async listSessions(subject?: string): Promise<readonly SessionRecord[]> {
    return this.listLive(this.sessions, subject);
  }

  async subjectProperties(id: string): Promise<JsonObject | undefined> {
    return this.subjects.get(id);
  }

  async putSubject(id: string, properties: JsonObject): Promise<void> {
    this.setSubject(id, properties);
    this.emit({ kind: 'subject', id });
  }

  async deleteSubject(id: string): Promise<boolean> {
    const existed = this.subjects.delete(id);
    if (existed) this.emit({ kind: 'subject', id });
    return existed;
  }

  async listSubjects(options: SubjectListOptions = {}): Promise<SubjectPage> {
    const limit = subjectPageSize(options.limit);
    const { cursor } = options;
    const ids = [...this.subjects.keys()].filter((id) => cursor === undefined || id > cursor).sort();
    const page = ids.slice(0, limit);
    const subjects = page.map((id) => ({ id, properties: this.subjects.get(id)! }));
    return ids.length > limit ? { subjects, next: page[page.length - 1]! } : { subjects };
  }

  onChange(listener: (change: StateChange) => void): void {
    this.listeners.push(listener);
  }

  health(): StoreHealth {
    return { healthy: true };
  }

  async close(): Promise<void> {}

  /** The record, unless it is past its drop time (then it is dropped, as Redis drops the key). */
  private live<R extends { readonly expiresAt?: number }>(records: Map<string, R>, id: string): R | undefined {
    const record = records.get(id);
    if (record === undefined) return undefined;
    if (recordDropTime(record.expiresAt) > this.now() / 1000) return record;
    records.delete(id);
    return undefined;
  }

  private listLive<R extends { readonly id: string; readonly subject: string; readonly createdAt: number; readonly expiresAt?: number }>(records: Map<string, R>, subject?: string): R[] {
    const out: R[] = [];
    for (const record of [...records.values()]) {
      if ((subject === undefined || record.subject === subject) && this.live(records, record.id) !== undefined) out.push(record);
    }
    return out.sort(compareRecords);
  }

  private emit(change: StateChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private setSubject(id: string, properties: JsonObject): void {
    checkSubjectRecord(id, properties);
    this.subjects.set(id, frozenProperties(properties));
  }

  private insertTuple(tuple: RelationTuple): void {
    const problem = tupleProblem(tuple);
    if (problem !== undefined) throw new TypeError(`invalid relation tuple: ${problem}`);
    addTo(this.byObject, tuple.object, tuple.relation, tuple.subject);
    addTo(this.bySubject, tuple.subject, tuple.object, tuple.relation);
  }

  private addBinding({ subject, role, service }: RoleBinding): void {
    let byService = this.roles.get(subject);
    if (!byService) this.roles.set(subject, (byService = new Map()));
    const key = service ?? GLOBAL;
    let roles = byService.get(key);
    if (!roles) byService.set(key, (roles = new Set()));
    roles.add(role);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** Two revocations of the same subject/token/session: the wider one (latest `before`, latest expiry). */
export function mergeRevocations(a: Revocation, b: Revocation): Revocation {
  const before = a.before === undefined || b.before === undefined ? undefined : Math.max(a.before, b.before);
  return { kind: a.kind, id: a.id, ...(before !== undefined && { before }), expiresAt: Math.max(a.expiresAt, b.expiresAt) };
}

type Index = Map<string, Map<string, Set<string>>>;

function addTo(index: Index, outer: string, inner: string, value: string): void {
  let byInner = index.get(outer);
  if (!byInner) index.set(outer, (byInner = new Map()));
  let values = byInner.get(inner);
  if (!values) byInner.set(inner, (values = new Set()));
  values.add(value);
}

/** Removes one entry and any map it leaves empty; false when there was nothing to remove. */
function removeFrom(index: Index, outer: string, inner: string, value: string): boolean {
  const byInner = index.get(outer);
  const values = byInner?.get(inner);
  if (!byInner || !values?.delete(value)) return false;
  if (values.size === 0) byInner.delete(inner);
  if (byInner.size === 0) index.delete(outer);
  return true;
}
