// Live authorization state. Everything that must change without a policy release (role
// bindings today; revocations and relation tuples next) is read through this interface, so the
// embedded memory store and a shared Redis store are interchangeable.

export interface RoleBinding {
  readonly subject: string;
  readonly role: string;
  /** Service the binding is limited to; undefined for a global binding. */
  readonly service?: string;
}

export interface StateStore {
  /** `memory`, `redis`, ... for logs and metrics. */
  readonly kind: string;
  /** Roles of `subject` that apply to `service`: its global bindings plus those for the service. */
  rolesFor(subject: string, service: string): Promise<ReadonlySet<string>>;
  grantRole(binding: RoleBinding): Promise<void>;
  revokeRole(binding: RoleBinding): Promise<void>;
  listRoleBindings(subject?: string): Promise<readonly RoleBinding[]>;
  close(): Promise<void>;
}
