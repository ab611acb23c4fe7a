// Live authorization state. Everything that must change without a policy release (role
// bindings, relation tuples, revocations, API keys, sessions and the subject directory) is read
// through this interface, so the embedded memory store and a shared Redis store are interchangeable.
import type { JsonObject } from '../access/types.js';
import type { SubjectListOptions, SubjectPage } from './subject-records.js';

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

/**
 * An API key, by its public id (the `<id>` of `kc_<id>_<secret>`). The secret itself is never
 * stored: only `hash`, the base64url HMAC-SHA256 of the secret under the deployment's pepper.
 */
export interface ApiKeyRecord {
  readonly id: string;
  readonly subject: string;
  /** base64url(HMAC-SHA256(pepper, secret)). */
  readonly hash: string;
  readonly scopes: readonly string[];
  /** A label for people (`ci-deploy`). */
  readonly name?: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  /** Seconds since the epoch; absent: the key does not expire. */
  readonly expiresAt?: number;
}

/** How the subject of a session authenticated, in claim form (for `mfa:`, `acr:`, `maxAuthAge:`). */
export interface SessionClaims {
  readonly acr?: string;
  readonly amr?: readonly string[];
  /** Seconds since the epoch. */
  readonly auth_time?: number;
}

/**
 * A session. `id` is the base64url SHA-256 of the cookie value: the store never holds the value
 * itself, so reading the store does not let anyone act as the session's subject.
 */
export interface SessionRecord {
  readonly id: string;
  readonly subject: string;
  /** Seconds since the epoch (all times here). */
  readonly createdAt: number;
  /**
   * When the session was last used, for the idle timeout (updated at most every idleTimeout/10);
   * seconds with a fraction (milliseconds), so short idle timeouts are kept precisely.
   */
  readonly lastSeenAt: number;
  /** The absolute end of the session. */
  readonly expiresAt: number;
  readonly claims?: SessionClaims;
}

/**
 * How long (seconds) an expired API key or session is kept, so a caller presenting it is told it
 * expired (api_key_expired, session_expired) rather than that it is unknown. After that the store
 * drops it (Redis: the key's TTL).
 */
export const EXPIRED_RECORD_RETENTION_SECONDS = 86_400;

/** When a record with this expiry may be dropped (seconds since the epoch); Infinity for never. */
export function recordDropTime(expiresAt: number | undefined): number {
  return expiresAt === undefined ? Infinity : expiresAt + EXPIRED_RECORD_RETENTION_SECONDS;
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
  /** An API key was created, replaced or deleted. */
  | { readonly kind: 'apiKey'; readonly id: string }
  /** A session was created, touched or deleted. */
  | { readonly kind: 'session'; readonly id: string }
  /** A subject directory record was set or deleted. */
  | { readonly kind: 'subject'; readonly id: string }
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
  /** Stores an API key, replacing one with the same id. */
  putApiKey(record: ApiKeyRecord): Promise<void>;
  /** The API key with this id, expired or not, until the store drops it (see recordDropTime). */
  apiKey(id: string, options?: ReadOptions): Promise<ApiKeyRecord | undefined>;
  /** Deletes an API key; false when there was none. Every replica stops accepting it at once. */
  deleteApiKey(id: string): Promise<boolean>;
  /** API keys (of `subject`, if given) the store still holds, sorted by subject, createdAt and id. */
  listApiKeys(subject?: string): Promise<readonly ApiKeyRecord[]>;
  /** Stores a session, replacing one with the same id. */
  putSession(record: SessionRecord): Promise<void>;
  /** The session with this id (the hash of its cookie value), expired or not, until it is dropped. */
  session(id: string, options?: ReadOptions): Promise<SessionRecord | undefined>;
  /** Moves lastSeenAt forward (never back); nothing when the session does not exist. */
  touchSession(id: string, lastSeenAt: number): Promise<void>;
  /** Deletes a session (logout); false when there was none. */
  deleteSession(id: string): Promise<boolean>;
  /** Sessions (of `subject`, if given) the store still holds, sorted by subject, createdAt and id. */
  listSessions(subject?: string): Promise<readonly SessionRecord[]>;
  /** The subject directory's properties of `id` (e.g. email, department), or undefined when it has no record. */
  subjectProperties(id: string, options?: ReadOptions): Promise<JsonObject | undefined>;
  /** Stores a subject's properties, replacing its record. Throws TypeError on a malformed or oversized record (subject-records.ts). */
  putSubject(id: string, properties: JsonObject): Promise<void>;
  /** Deletes a subject's record; false when there was none. */
  deleteSubject(id: string): Promise<boolean>;
  /** One page of subject records in id order; pass `next` back as `cursor` for the following page. */
  listSubjects(options?: SubjectListOptions): Promise<SubjectPage>;
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

/** The order listings are returned in: subject, then creation time, then id. */
export function compareRecords(a: { subject: string; createdAt: number; id: string }, b: { subject: string; createdAt: number; id: string }): number {
  return compareText(a.subject, b.subject) || a.createdAt - b.createdAt || compareText(a.id, b.id);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
