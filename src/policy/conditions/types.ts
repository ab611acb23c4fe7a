// What a rule condition is, what it can see at request time, and what it can learn at load time.
import type { JsonObject } from '../../access/types.js';
import type { Identity } from '../../authn/identity.js';
import type { ConfigIssue } from '../../errors.js';
import type { ReadOptions } from '../../state/store.js';
import type { Params } from '../path-template.js';

/** The request as conditions see it. */
export interface RequestContext {
  readonly method: string;
  /** Normalized path. */
  readonly path: string;
  /** Lower-case header names. */
  readonly headers: ReadonlyMap<string, string>;
  /** The client address: the peer, or the first untrusted hop of x-forwarded-for behind trusted proxies. */
  readonly clientAddress: string | undefined;
  /** The mTLS peer's identity as Envoy reports it (`source.principal`), e.g. a SPIFFE ID. */
  readonly peerPrincipal?: string | undefined;
}

/** Answers "does `subject` have `relation` on `object`?" from the live store (ReBAC). */
export interface RelationChecker {
  /** `options`: how stale a cached store answer may be when the store fails (per service). */
  check(object: string, relation: string, subject: string, options?: ReadOptions): Promise<RelationAnswer>;
}

export interface RelationAnswer {
  readonly ok: boolean;
  /** How the relation was granted, e.g. ["user:alice", "group:eng#member", "doc:1#viewer"]. */
  readonly chain?: readonly string[];
  /** Why it was not: no tuple, or the depth limit was reached. */
  readonly detail?: string;
}

export interface EvaluationContext {
  readonly identity: Identity;
  /** Roles bound to the subject for this service (global and per-service), from the store. */
  readonly roles: ReadonlySet<string>;
  /** Path parameters bound by the rule's matching template. */
  readonly params: Params;
  readonly request: RequestContext;
  /** Milliseconds since the epoch, fixed for the whole decision. */
  readonly now: number;
  readonly relations: RelationChecker;
  /**
   * The access question being decided (AuthZEN), for attribute conditions; absent for an HTTP
   * request, whose attributes are derived from the caller and the request (resource `route`).
   */
  readonly access?: AccessFacts;
  /**
   * The subject's properties (`subject.properties.*`): the subject directory's, merged with what
   * an access question's caller may supply. Read once, on first use; set only when the policy's
   * conditions read them and the subject is known.
   */
  readonly subjectProperties?: () => Promise<JsonObject | undefined>;
}

/** An access question as conditions see it (caller-sent subject properties are applied through `subjectProperties`). */
export interface AccessFacts {
  readonly subject: { readonly type: string; readonly id: string };
  readonly action: { readonly name: string; readonly properties?: JsonObject };
  readonly resource: { readonly type: string; readonly id: string; readonly properties?: JsonObject };
  readonly context: JsonObject;
}

/** What a step-up challenge must ask for (RFC 9470). */
export interface StepUpRequirement {
  readonly acrValues?: readonly string[];
  readonly maxAgeSeconds?: number;
}

export type ConditionResult =
  | { readonly ok: true; readonly chain?: readonly string[] }
  | {
      readonly ok: false;
      /** Why it failed, in words for the audit log and `keycard check`. */
      readonly detail: string;
      /** Scopes the token lacks (insufficient_scope). */
      readonly missingScopes?: readonly string[];
      /** A stronger or fresher authentication would satisfy it (insufficient_user_authentication). */
      readonly stepUp?: StepUpRequirement;
    };

/**
 * `plain` conditions decide; `scope` and `step_up` conditions are checked after every plain one
 * holds, so that a rule failing only on them can answer with a precise challenge.
 */
export type ConditionCategory = 'plain' | 'scope' | 'step_up';

export interface Condition {
  readonly kind: string;
  readonly category: ConditionCategory;
  /** Human form, e.g. `role in [support, admin]`. */
  readonly description: string;
  /** Whether the condition looks at the caller (so `anonymous: true` with it can never hold). */
  readonly needsIdentity: boolean;
  /** Claims and headers it reads: the audit log records these so decisions can be replayed. */
  readonly reads?: ConditionReads;
  evaluate(context: EvaluationContext): ConditionResult | Promise<ConditionResult>;
}

export interface ConditionReads {
  readonly claims?: readonly string[];
  readonly headers?: readonly string[];
  /** Reads `subject.properties.*` from the subject directory. */
  readonly directory?: boolean;
}

/** Load-time context for compiling conditions. */
export interface CompileContext {
  /** Reports a problem at a key path relative to the condition. */
  issue(code: ConfigIssue['code'], path: readonly (string | number)[], message: string): void;
  /** Parameter names every path template of the rule binds (`id` for an access rule). */
  readonly pathParams: ReadonlySet<string>;
  /** `http`: a rule matching requests (methods, paths, operations); `access`: one matching access questions. */
  readonly ruleKind: 'http' | 'access';
  readonly stepUp: StepUpSettings;
  /** The relation schema (ReBAC types and relations), to check `relation:` conditions at load. */
  readonly relationSchema: RelationSchemaView;
}

export interface RelationSchemaView {
  hasRelation(objectType: string, relation: string): boolean;
  /** The subject type a caller is, e.g. `user` (so alice is `user:alice`). */
  readonly subjectType: string;
}

export interface StepUpSettings {
  /** `amr` values that count as multi-factor (RFC 8176). */
  readonly mfaAmrValues: readonly string[];
  /** `acr` values that count as multi-factor; also sent as `acr_values` in an mfa step-up challenge. */
  readonly mfaAcrValues: readonly string[];
}

export const DEFAULT_STEP_UP: StepUpSettings = { mfaAmrValues: ['mfa', 'otp', 'hwk', 'swk', 'sms', 'fpt', 'face'], mfaAcrValues: [] };
