// Turns one validated policy file into a CompiledPolicy, checking what a schema cannot:
// path templates, conditions, duplicate rule ids, issuer references and rules that can never match.
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { YamlSource } from '../config/yaml-file.js';
import { normalizeHost } from '../pipeline/normalize.js';
import { compileAuthentication, type CredentialSettingsView } from './authentication.js';
import { mergeReads } from './conditions/combinators.js';
import { compileCondition } from './conditions/compile.js';
import type { CompileContext, Condition, ConditionCategory, RelationSchemaView, StepUpSettings } from './conditions/types.js';
import { DEFAULT_STEP_UP } from './conditions/types.js';
import type { ApiDescription } from '../registry/types.js';
import { apiDocumentPath } from './api-reference.js';
import { AccessRuleIndex } from './access-index.js';
import { compileAccessMatch, compileAuthzenCallers, compileSubjectProperties, isAccessRule } from './compile-access.js';
import { compileRuleMatch, indexApi, type ApiIndex, type RuleMatch } from './compile-routes.js';
import type { PathTemplate } from './path-template.js';
import { RuleIndex } from './rule-index.js';
import type { PolicySpec, RuleSpec } from './schema.js';
import type { AccessMatch, CompiledPolicy, CompiledRule } from './types.js';
import { OperationRouter } from '../registry/operation-router.js';

export interface CompileOptions {
  /** Issuer names from the settings file. */
  readonly issuers: ReadonlySet<string>;
  /** Other credential settings (introspection endpoints, API keys, the internal token); none when left out. */
  readonly credentials?: Omit<CredentialSettingsView, 'issuers'> & { readonly internalToken?: boolean };
  readonly stepUp?: StepUpSettings;
  readonly relationSchema?: RelationSchemaView;
  /**
   * The API descriptions policies name in `api.openapi`, by absolute path (apiDocumentPath); null
   * for one that failed to load (the loader reports its errors). Loaded by loadPolicySet: without
   * this, a policy with `api:` is a load error.
   */
  readonly apiDescriptions?: ReadonlyMap<string, ApiDescription | null>;
}

const NO_OTHER_CREDENTIALS: Omit<CredentialSettingsView, 'issuers'> = { introspectionEndpoints: new Set(), apiKeys: false };

/** With no relation schema configured, every `relation:` condition is a load error. */
const NO_RELATIONS: RelationSchemaView = { hasRelation: () => false, subjectType: 'user' };

const CATEGORY_ORDER: Record<ConditionCategory, number> = { plain: 0, scope: 1, step_up: 2 };

export function compilePolicy(spec: PolicySpec, source: YamlSource, options: CompileOptions): CompiledPolicy {
  const issues: ConfigIssue[] = [];

  const authentication = compileAuthentication(spec.authentication, source, { ...NO_OTHER_CREDENTIALS, ...options.credentials, issuers: options.issuers }, issues);
  // Issuers of the first JWT entry: what offline tools (`keycard check`) assume a caller uses.
  const issuers = authentication.credentials.find((credential) => credential.kind === 'jwt' || credential.kind === 'envoy_jwt')?.issuers;

  const api = policyApi(spec, source, options, issues);
  const apiIndex = api && indexApi(api);
  const ids = new Set<string>();
  const rules: CompiledRule[] = [];
  spec.rules.forEach((rule, index) => {
    const path = ['rules', index];
    if (ids.has(rule.id)) issues.push(source.issue('duplicate_rule_id', [...path, 'id'], `rule id "${rule.id}" is used twice`));
    ids.add(rule.id);
    const compiled = compileRule(rule, index, source, issues, options, spec.api ? (apiIndex ?? 'unavailable') : undefined);
    if (compiled) rules.push(compiled);
  });

  if (spec.forward.identityToken && !options.credentials?.internalToken) {
    issues.push(source.issue('credential_not_configured', ['forward', 'identityToken'], 'the identity token needs `internalToken:` (the signing key) in the settings file'));
  }

  const issuerNames = new Set([...options.issuers, ...(options.credentials?.introspectionEndpoints ?? [])]);
  const authzenCallers = compileAuthzenCallers(spec, source, issues, issuerNames);

  if (issues.length > 0) throw new ConfigError(issues);
  const operations = api && new OperationRouter(api.operations);
  const httpRules = rules.filter((rule) => rule.access === undefined);
  const accessRules = rules.filter((rule) => rule.access !== undefined);
  const accessIndex = new AccessRuleIndex(accessRules);
  const reads = mergeReads(rules.flatMap((rule) => rule.conditions));
  return {
    service: spec.service,
    hosts: spec.hosts.map(normalizeHost),
    file: source.file,
    mode: spec.mode,
    issuers,
    authentication,
    rules: httpRules,
    // With the API's routing, rules bound to operations are candidates only for their operations.
    index: new RuleIndex(httpRules, operations),
    accessRules,
    accessIndex,
    resourceTypes: accessIndex.resourceTypes,
    readsDirectory: reads.directory === true,
    subjectProperties: compileSubjectProperties(spec),
    authzenCallers,
    forward: spec.forward,
    ...(spec.denyPage && { denyPage: spec.denyPage }),
    storeReads: { maxStaleMs: spec.store.onError === 'serve-stale' ? spec.store.maxStale : 0 },
    recorded: { claims: reads.claims, headers: reads.headers },
    api,
    operations,
  };
}

/** The policy's API description, or undefined (with an issue at `api.openapi` when it names one that is not loaded). */
function policyApi(spec: PolicySpec, source: YamlSource, options: CompileOptions, issues: ConfigIssue[]): ApiDescription | undefined {
  if (!spec.api) return undefined;
  const at = ['api', 'openapi'];
  if (!options.apiDescriptions) {
    issues.push(source.issue('invalid_api_description', at, 'this loader does not read API descriptions (keycard loads them with loadPolicySet)'));
    return undefined;
  }
  const description = options.apiDescriptions.get(apiDocumentPath(source.file, spec.api.openapi));
  if (!description) issues.push(source.issue('invalid_api_description', at, `the API description ${spec.api.openapi} did not load (its errors are listed with it)`));
  return description ?? undefined;
}

function compileRule(
  rule: RuleSpec,
  index: number,
  source: YamlSource,
  issues: ConfigIssue[],
  options: CompileOptions,
  api: ApiIndex | undefined | 'unavailable',
): CompiledRule | undefined {
  const path = ['rules', index];
  const before = issues.length;
  const accessRule = isAccessRule(rule);
  const access: AccessMatch | undefined = accessRule ? compileAccessMatch(rule, path, source, issues) : undefined;
  const match: RuleMatch | undefined = accessRule ? (access && NO_HTTP_MATCH) : compileRuleMatch(rule, path, source, issues, api);
  // A rule whose operations or permissions did not resolve has no templates to check conditions against.
  if (!match) return undefined;
  const templates = match.paths ?? [];

  const conditions: Condition[] = [];
  rule.when.forEach((entry, whenIndex) => {
    const context: CompileContext = {
      issue: (code, rest, message) => issues.push(source.issue(code, [...path, 'when', whenIndex, ...rest], message)),
      pathParams: accessRule ? ACCESS_PARAMS : boundEverywhere(templates, match.paths !== undefined),
      ruleKind: accessRule ? 'access' : 'http',
      stepUp: options.stepUp ?? DEFAULT_STEP_UP,
      relationSchema: options.relationSchema ?? NO_RELATIONS,
    };
    const condition = compileCondition(entry, context);
    if (condition) conditions.push(condition);
  });

  if (rule.anonymous && rule.effect === 'deny' && !accessRule) {
    issues.push(source.issue('invalid_value', [...path, 'anonymous'], 'anonymous applies to allow rules only; a deny rule applies to every caller'));
  }
  const callerCondition = conditions.find((condition) => condition.needsIdentity);
  if (rule.anonymous && callerCondition && !accessRule) {
    issues.push(source.issue('rule_never_matches', [...path, 'anonymous'], `anonymous callers can never satisfy "${callerCondition.description}"`));
  }
  if (rule.dryRun && rule.effect !== 'deny') {
    issues.push(source.issue('invalid_value', [...path, 'dryRun'], 'dryRun applies to deny rules; for a whole service use "mode: dry-run"'));
  }
  if (rule.permission !== undefined && rule.effect !== 'allow') {
    issues.push(source.issue('invalid_value', [...path, 'permission'], 'only allow rules grant a permission'));
  }
  if (issues.length > before) return undefined;

  return {
    id: rule.id,
    index,
    effect: rule.effect,
    methods: match.methods,
    paths: match.paths,
    routes: match.routes,
    operations: match.operations,
    permissions: match.permissions,
    anonymous: rule.anonymous,
    conditions: conditions.sort((a, b) => CATEGORY_ORDER[a.category] - CATEGORY_ORDER[b.category]),
    dryRun: rule.dryRun,
    permission: match.permissions?.[0] ?? rule.permission ?? rule.id,
    grants: match.permissions ?? [rule.permission ?? rule.id],
    location: { file: source.file, line: source.locate(path).line },
    ...(access && { access }),
  };
}

/** An access rule matches no HTTP request: no methods, paths or routes of its own. */
const NO_HTTP_MATCH: RuleMatch = { methods: undefined, paths: undefined, routes: undefined, operations: undefined, permissions: undefined };

/** An access rule binds the question's resource id as `{id}`. */
const ACCESS_PARAMS: ReadonlySet<string> = new Set(['id']);

/** Parameters that every template binds, so a condition can rely on them whichever one matched. */
function boundEverywhere(templates: readonly PathTemplate[], hasPaths: boolean): ReadonlySet<string> {
  if (!hasPaths || templates.length === 0) return new Set();
  const sets = templates.map((template) => new Set(template.segments.flatMap((segment) => (segment.kind === 'param' ? [segment.name] : []))));
  return new Set([...sets[0]!].filter((name) => sets.every((set) => set.has(name))));
}
