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

/**
 * A revocation. `token`: one token by its `jti`. `subject`: every token of the subject issued
 * (`iat`) before `before`. `session`: every token carrying the session id `sid`. An entry may be
 * dropped once `expiresAt` has passed: no token it could match is still valid by then.
 */
export interface Revocation {
  readonly kind: 'token' | 'subject' | 'session';
  /** The jti, subject or sid. */
  readonly id: string;
  /** kind `subject` only: seconds since the epoch; tokens issued before it are revoked. */
  readonly before?: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** What a revocation check needs to know about a verified token. */
export interface TokenFacts {
  readonly subject: string;
  readonly jti?: string;
  /** `iat`, seconds since the epoch. */
  readonly issuedAt?: number;
  readonly sid?: string;
}

/** Read options: how a caching store may answer when the backing store cannot. */
export interface ReadOptions {
  /** Serve a cached answer up to this old (ms) when the store fails; 0 or absent: fail closed. */
  readonly maxStaleMs?: number;
}

/** A change, published by the store that made it so every replica's cache drops what it affects. */
export type StateChange =
  | { readonly kind: 'roles'; readonly subject: string }
  | { readonly kind: 'tuples'; readonly object: string; readonly relation: string }
  | { readonly kind: 'revocation'; readonly revocation: Revocation }
  /** Anything may have changed (e.g. the change feed reconnected after missing messages). */
  | { readonly kind: 'flush' };

/** Store health for /readyz and metrics. */
export interface StoreHealth {
  readonly healthy: boolean;
  readonly detail?: string;
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
  rolesFor(subject: string, service: string, options?: ReadOptions): Promise<ReadonlySet<string>>;
  grantRole(binding: RoleBinding): Promise<void>;
  revokeRole(binding: RoleBinding): Promise<void>;
  listRoleBindings(subject?: string): Promise<readonly RoleBinding[]>;
  /** Subjects of the direct tuples `object#relation@…` (objects and usersets; no rewrites applied). */
  subjectsOf(object: string, relation: string, options?: ReadOptions): Promise<readonly string[]>;
  /** Adds a tuple; adding one that exists changes nothing. Throws on a malformed tuple. */
  addTuple(tuple: RelationTuple): Promise<void>;
  removeTuple(tuple: RelationTuple): Promise<void>;
  /** Tuples that match the filter (every tuple without one). */
  listTuples(filter?: TupleFilter): Promise<readonly RelationTuple[]>;
  /** Records a revocation (idempotent). */
  revoke(revocation: Revocation): Promise<void>;
  /** The revocation that applies to the token, if any (expired entries never apply). */
  revocationFor(token: TokenFacts, options?: ReadOptions): Promise<Revocation | undefined>;
  /** Revocations still in force. */
  listRevocations(): Promise<readonly Revocation[]>;
  /** Every change this store or another replica makes, as it happens (memory: this process only). */
  onChange(listener: (change: StateChange) => void): void;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** Whether `revocation` applies to the token: a subject revocation also catches tokens without `iat`. */
export function revocationApplies(revocation: Revocation, token: TokenFacts, nowSeconds: number): boolean {
  if (revocation.expiresAt <= nowSeconds) return false;
  switch (revocation.kind) {
    case 'token':
      return token.jti === revocation.id;
    case 'session':
      return token.sid === revocation.id;
    case 'subject':
      return token.subject === revocation.id && (token.issuedAt === undefined || token.issuedAt < (revocation.before ?? Infinity));
  }
}
