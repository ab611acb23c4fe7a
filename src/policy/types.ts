// Compiled policies: plain data built once at load time and shared read-only by every request.
import type { AuthenticationConfig } from '../authn/credentials/types.js';
import type { PolicyDenyPage } from '../config/deny-page-settings.js';
import type { ApiDescription } from '../registry/types.js';
import type { OperationRouter } from '../registry/operation-router.js';
import type { ReadOptions } from '../state/store.js';
import type { Condition } from './conditions/types.js';
import type { PathTemplate } from './path-template.js';
import type { AccessRuleIndex } from './access-index.js';
import type { RuleIndex } from './rule-index.js';

export type Effect = 'allow' | 'deny';

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export interface CompiledRule {
  readonly id: string;
  /** Position in the policy file; the index keeps candidates in this order. */
  readonly index: number;
  readonly effect: Effect;
  /**
   * Upper-case methods, or undefined for any method. For a rule written with `match.operations`
   * or `match.permissions`, the methods of its routes (see `routes`).
   */
  readonly methods: ReadonlySet<string> | undefined;
  /**
   * Path templates, or undefined for any path. For a rule written with `match.operations` or
   * `match.permissions`, the templates of its routes (see `routes`).
   */
  readonly paths: readonly PathTemplate[] | undefined;
  /**
   * Rules written with `match.operations` or `match.permissions` match exact (method, template)
   * pairs, not every method with every path: upper-case method → its templates, in the order of
   * the API description. Undefined for rules written with `methods`/`paths`, which match the
   * cross product of `methods` and `paths`.
   */
  readonly routes: ReadonlyMap<string, readonly PathTemplate[]> | undefined;
  /** `match.operations` as written: operationIds of the policy's API description. */
  readonly operations: readonly string[] | undefined;
  /** `match.permissions` as written: `x-keycard-permission` names of the policy's API description. */
  readonly permissions: readonly string[] | undefined;
  readonly anonymous: boolean;
  /** Ordered plain → scope → step_up, so a rule failing only on the last two can be told apart. */
  readonly conditions: readonly Condition[];
  /** A deny rule that is evaluated and recorded, but not enforced. */
  readonly dryRun: boolean;
  /** Name of the permission this allow rule grants (for the permissions header); the rule id by default. The first of `grants`. */
  readonly permission: string;
  /**
   * What an allow rule whose conditions hold puts in the permissions header: its `permission`
   * (the rule id by default), or for a rule written with `match.permissions`, those names.
   */
  readonly grants: readonly string[];
  readonly location: SourceLocation;
  /**
   * Rules written with `match.actions`/`match.resources` (access rules): what they match. Such a
   * rule answers access questions only (they bind the resource id as `{id}`); it has no methods,
   * paths or routes and is not among the policy's HTTP `rules`.
   */
  readonly access?: AccessMatch;
}

export interface AccessMatch {
  /** Action names; undefined for any action. */
  readonly actions: ReadonlySet<string> | undefined;
  /** Resource types, in the order written. */
  readonly resources: readonly string[];
}

/** Which properties an access question's caller may supply for its subject (policy `subjectProperties`). */
export interface SubjectPropertySettings {
  /** Used when the subject directory has no value of that name. */
  readonly fromCaller: ReadonlySet<string>;
  /** The caller's value wins over the directory's. */
  readonly callerOverrides: ReadonlySet<string>;
}

/** One entry of `authzen.callers`: every field given must match the asking caller. */
export interface AuthzenCallerPattern {
  readonly subject?: string;
  readonly issuer?: string;
  /** An mTLS peer identity: exact, or a prefix ending in "/*". */
  readonly principal?: { readonly text: string; test(principal: string): boolean };
  readonly role?: string;
}

export interface ForwardSettings {
  /** Send x-keycard-subject, -issuer and -roles to the service (client copies are always removed). */
  readonly identityHeaders: boolean;
  /** Send x-keycard-permissions: the permissions the caller holds for this service. */
  readonly permissionsHeader: boolean;
  /** Send an internal identity token signed by keycard (settings `internalToken.header`, x-keycard-token by default). */
  readonly identityToken: boolean;
}

export type PolicyMode = 'enforce' | 'dry-run';

export interface CompiledPolicy {
  readonly service: string;
  readonly hosts: readonly string[];
  readonly file: string;
  /** `dry-run`: decide and record, but always allow. */
  readonly mode: PolicyMode;
  /** Issuer names that may authenticate callers here; undefined means every configured issuer. */
  readonly issuers: readonly string[] | undefined;
  /** The credentials accepted, in order of precedence. */
  readonly authentication: AuthenticationConfig;
  /** The HTTP rules (methods/paths, operations, permissions), in file order. Access rules are in `accessRules`. */
  readonly rules: readonly CompiledRule[];
  /** Finds the rules that can match a method and path without scanning them all. */
  readonly index: RuleIndex;
  /** Rules written with `match.actions`/`match.resources`, in file order: they answer access questions only. */
  readonly accessRules: readonly CompiledRule[];
  /** Finds the access rules for a resource type and action. */
  readonly accessIndex: AccessRuleIndex;
  /** The resource types the access rules name: this policy answers access questions about them. */
  readonly resourceTypes: readonly string[];
  /** Some condition reads `subject.properties.*`: decisions read the subject directory (only then). */
  readonly readsDirectory: boolean;
  /** Which caller-sent subject properties an access question may use. */
  readonly subjectProperties: SubjectPropertySettings;
  /** `authzen.callers`: who may ask access questions about this service; empty: nobody. */
  readonly authzenCallers: readonly AuthzenCallerPattern[];
  readonly forward: ForwardSettings;
  /** The policy's `denyPage:` as written (the settings file's fills in what it leaves unset). */
  readonly denyPage?: PolicyDenyPage;
  /** How reads of live state behave when the store fails: maxStaleMs 0 is fail-closed. */
  readonly storeReads: ReadOptions;
  /** Claims and headers its conditions read, recorded in the audit log for replay. */
  readonly recorded: { readonly claims: readonly string[]; readonly headers: readonly string[] };
  /** The service's API description (`api.openapi`), undefined when the policy names none. */
  readonly api: ApiDescription | undefined;
  /** Routes a request to its operation of `api` (for rules bound to operations); undefined without `api`. */
  readonly operations: OperationRouter | undefined;
}
