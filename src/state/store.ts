// Live authorization state. Everything that must change without a policy release (role
// bindings and relation tuples today; revocations next) is read through this interface, so the
// embedded memory store and a shared Redis store are interchangeable.

export interface RoleBinding {
  readonly subject: string;
  readonly role: string;
  /** Service the binding is limited to; undefined for a global binding. */
  readonly service?: string;
}

/** A relation tuple `object#relation@subject` (see tuple.ts for the text form). */
export interface RelationTuple {
  /** `type:id`, e.g. `order:42`. */
  readonly object: string;
  /** e.g. `owner`. */
  readonly relation: string;
  /** An object `type:id` or a userset `type:id#relation`, e.g. `user:alice` or `group:eng#member`. */
  readonly subject: string;
}

/** Selects tuples: every field given must match exactly. */
export interface TupleFilter {
  readonly object?: string;
  readonly relation?: string;
  readonly subject?: string;
}

export interface StateStore {
  /** `memory`, `redis`, ... for logs and metrics. */
  readonly kind: string;
  /** Roles of `subject` that apply to `service`: its global bindings plus those for the service. */
  rolesFor(subject: string, service: string): Promise<ReadonlySet<string>>;
  grantRole(binding: RoleBinding): Promise<void>;
  revokeRole(binding: RoleBinding): Promise<void>;
  listRoleBindings(subject?: string): Promise<readonly RoleBinding[]>;
  /** Subjects of the direct tuples `object#relation@…` (objects and usersets; no rewrites applied). */
  subjectsOf(object: string, relation: string): Promise<readonly string[]>;
  /** Adds a tuple; adding one that exists changes nothing. Throws on a malformed tuple. */
  addTuple(tuple: RelationTuple): Promise<void>;
  removeTuple(tuple: RelationTuple): Promise<void>;
  /** Tuples that match the filter (every tuple without one). */
  listTuples(filter?: TupleFilter): Promise<readonly RelationTuple[]>;
  close(): Promise<void>;
}
