// Compiled policies: plain data built once at load time and shared read-only by every request.
import type { Identity } from '../authn/identity.js';
import type { Params, PathTemplate } from './path-template.js';

export type Effect = 'allow' | 'deny';

/** What a condition can look at. Built once per request after the state phase. */
export interface EvaluationContext {
  readonly identity: Identity;
  /** Roles bound to the subject for this service (global and per-service), from the store. */
  readonly roles: ReadonlySet<string>;
  readonly params: Params;
}

export interface ConditionResult {
  readonly ok: boolean;
  /** Why it failed, in words for the audit log and `keycard check`. */
  readonly detail?: string;
}

export interface Condition {
  readonly kind: string;
  /** Human form, e.g. `role in [support, admin]`. */
  readonly description: string;
  evaluate(context: EvaluationContext): ConditionResult;
}

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export interface CompiledRule {
  readonly id: string;
  readonly effect: Effect;
  /** Upper-case methods, or undefined for any method. */
  readonly methods: ReadonlySet<string> | undefined;
  /** Path templates, or undefined for any path. */
  readonly paths: readonly PathTemplate[] | undefined;
  readonly anonymous: boolean;
  readonly conditions: readonly Condition[];
  readonly location: SourceLocation;
}

export interface ForwardSettings {
  /** Send x-keycard-subject, -issuer and -roles to the service (client copies are always removed). */
  readonly identityHeaders: boolean;
}

export interface CompiledPolicy {
  readonly service: string;
  readonly hosts: readonly string[];
  readonly file: string;
  /** Issuer names that may authenticate callers here; undefined means every configured issuer. */
  readonly issuers: readonly string[] | undefined;
  readonly rules: readonly CompiledRule[];
  readonly forward: ForwardSettings;
}
