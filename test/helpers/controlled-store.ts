// A StateStore for cache tests that stands in for a remote store: a MemoryStore holds the data,
// and the test controls what a network would do. Reads can be held (the value is read at once,
// as a server would, but the answer is delivered only on release), made to fail, or counted; the
// change feed can be muted (messages lost) or fed by hand; health can be set.
import type { JsonObject } from '../../src/access/types.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { SubjectListOptions, SubjectPage } from '../../src/state/subject-records.js';
import type {
  ApiKeyRecord,
  ReadOptions,
  RelationTuple,
  Revocation,
  RoleBinding,
  SessionRecord,
  StateChange,
  StateStore,
  StoreHealth,
  TokenFacts,
  TupleFilter,
} from '../../src/state/store.js';

type ReadOp = 'rolesFor' | 'subjectsOf' | 'revocationFor' | 'apiKey' | 'session' | 'subjectProperties';

export class ControlledStore implements StateStore {
  readonly kind = 'remote';
  /** Reads that reached this store, per op. */
  readonly calls: Record<ReadOp, number> = { rolesFor: 0, subjectsOf: 0, revocationFor: 0, apiKey: 0, session: 0, subjectProperties: 0 };
  /** When set, every read rejects with it. */
  failure: Error | undefined;
  /** When set, every write is made and then rejects with it (as a write whose answer was lost). */
  writeFailure: Error | undefined;
  /** When true, changes are made but not published (lost messages). */
  muted = false;
  healthy = true;
  /** Options each read was given, newest last. */
  readonly options: (ReadOptions | undefined)[] = [];
  private held: Promise<void> | undefined;
  private readonly reading: Promise<void>[] = [];
  private release: (() => void) | undefined;
  private readonly listeners: ((change: StateChange) => void)[] = [];

  constructor(readonly data: MemoryStore = new MemoryStore()) {
    data.onChange((change) => {
      if (!this.muted) this.publish(change);
    });
  }

  /** Holds the answers of reads from now on until the returned function is called. */
  hold(): () => void {
    this.held = new Promise<void>((resolve) => (this.release = resolve));
    return () => {
      this.held = undefined;
      this.release?.();
    };
  }

  /** Sends a change to the listeners, as a store feed would. */
  publish(change: StateChange): void {
    for (const listener of this.listeners) listener(change);
  }

  rolesFor(subject: string, service: string, options?: ReadOptions): Promise<ReadonlySet<string>> {
    // A copy, as a remote store's answer is: the memory store hands out sets it changes in place.
    return this.read('rolesFor', options, () => this.data.rolesFor(subject, service).then((roles) => new Set(roles)));
  }

  subjectsOf(object: string, relation: string, options?: ReadOptions): Promise<readonly string[]> {
    return this.read('subjectsOf', options, () => this.data.subjectsOf(object, relation));
  }

  revocationFor(token: TokenFacts, options?: ReadOptions): Promise<Revocation | undefined> {
    return this.read('revocationFor', options, () => this.data.revocationFor(token));
  }

  grantRole(binding: RoleBinding): Promise<void> {
    return this.written(this.data.grantRole(binding));
  }

  revokeRole(binding: RoleBinding): Promise<void> {
    return this.written(this.data.revokeRole(binding));
  }

  listRoleBindings(subject?: string): Promise<readonly RoleBinding[]> {
    return this.data.listRoleBindings(subject);
  }

  addTuple(tuple: RelationTuple): Promise<void> {
    return this.written(this.data.addTuple(tuple));
  }

  removeTuple(tuple: RelationTuple): Promise<void> {
    return this.written(this.data.removeTuple(tuple));
  }

  listTuples(filter?: TupleFilter): Promise<readonly RelationTuple[]> {
    return this.data.listTuples(filter);
  }

  revoke(revocation: Revocation): Promise<void> {
    return this.written(this.data.revoke(revocation));
  }

  listRevocations(): Promise<readonly Revocation[]> {
    return this.data.listRevocations();
  }

  apiKey(id: string, options?: ReadOptions): Promise<ApiKeyRecord | undefined> {
    return this.read('apiKey', options, () => this.data.apiKey(id));
  }

  putApiKey(record: ApiKeyRecord): Promise<void> {
    return this.written(this.data.putApiKey(record));
  }

  deleteApiKey(id: string): Promise<boolean> {
    return this.written(this.data.deleteApiKey(id));
  }

  listApiKeys(subject?: string): Promise<readonly ApiKeyRecord[]> {
    return this.data.listApiKeys(subject);
  }

  session(id: string, options?: ReadOptions): Promise<SessionRecord | undefined> {
    return this.read('session', options, () => this.data.session(id));
  }

  putSession(record: SessionRecord): Promise<void> {
    return this.written(this.data.putSession(record));
  }

  touchSession(id: string, lastSeenAt: number): Promise<void> {
    return this.written(this.data.touchSession(id, lastSeenAt));
  }

  deleteSession(id: string): Promise<boolean> {
    return this.written(this.data.deleteSession(id));
  }

  listSessions(subject?: string): Promise<readonly SessionRecord[]> {
    return this.data.listSessions(subject);
  }

  subjectProperties(id: string, options?: ReadOptions): Promise<JsonObject | undefined> {
    return this.read('subjectProperties', options, () => this.data.subjectProperties(id));
  }

  putSubject(id: string, properties: JsonObject): Promise<void> {
    return this.written(this.data.putSubject(id, properties));
  }

  deleteSubject(id: string): Promise<boolean> {
    return this.written(this.data.deleteSubject(id));
  }

  listSubjects(options?: SubjectListOptions): Promise<SubjectPage> {
    return this.data.listSubjects(options);
  }

  onChange(listener: (change: StateChange) => void): void {
    this.listeners.push(listener);
  }

  health(): StoreHealth {
    return this.healthy ? { healthy: true } : { healthy: false, detail: 'change feed down' };
  }

  async close(): Promise<void> {}

  private async written<T>(write: Promise<T>): Promise<T> {
    const result = await write;
    if (this.writeFailure) throw this.writeFailure;
    return result;
  }

  /** Resolves once every read so far has taken its value (held answers may still be undelivered). */
  async taken(): Promise<void> {
    await Promise.all(this.reading);
  }

  private async read<T>(op: ReadOp, options: ReadOptions | undefined, read: () => Promise<T>): Promise<T> {
    this.calls[op]++;
    this.options.push(options);
    if (this.failure) throw this.failure;
    const held = this.held;
    const reading = read();
    this.reading.push(reading.then(() => undefined, () => undefined));
    const value = await reading;
    if (held) await held;
    return value;
  }
}
