// Access rules (`match: { actions: [...], resources: [...] }`) and the policy keys about access
// questions: `authzen.callers` (who may ask) and `subjectProperties` (what a caller may supply).
// An access rule answers access questions only; an HTTP rule (methods, paths, operations,
// permissions) HTTP requests only, so one rule never mixes the two.
import type { ConfigIssue } from '../errors.js';
import type { KeyPath, YamlSource } from '../config/yaml-file.js';
import { compilePrincipalPattern } from './conditions/principal.js';
import type { PolicySpec, RuleSpec } from './schema.js';
import type { AccessMatch, AuthzenCallerPattern, SubjectPropertySettings } from './types.js';

/** The resource type of HTTP routes in access questions (answered by the HTTP rules, as Check would). */
export const ROUTE_RESOURCE_TYPE = 'route';

const HTTP_KEYS = ['methods', 'paths', 'operations', 'permissions'] as const;

export function isAccessRule(rule: RuleSpec): boolean {
  return rule.match.actions !== undefined || rule.match.resources !== undefined;
}

/** The rule's access match, or undefined after reporting why it has none. */
export function compileAccessMatch(rule: RuleSpec, path: KeyPath, source: YamlSource, issues: ConfigIssue[]): AccessMatch | undefined {
  const at = [...path, 'match'];
  const before = issues.length;
  for (const key of HTTP_KEYS) {
    if (rule.match[key] !== undefined) {
      issues.push(
        source.issue('invalid_value', [...at, key], `a rule matches HTTP requests (match.methods, paths, operations, permissions) or access questions (match.actions, resources), not both: write two rules`),
      );
    }
  }
  const { actions, resources } = rule.match;
  if (resources === undefined) {
    issues.push(source.issue('missing_key', [...at, 'actions'], 'match.actions needs match.resources: the resource types the actions are taken on'));
  }
  resources?.forEach((type, index) => {
    if (type === ROUTE_RESOURCE_TYPE) {
      issues.push(source.issue('invalid_value', [...at, 'resources', index], `"${ROUTE_RESOURCE_TYPE}" is the resource type of HTTP routes, answered by the HTTP rules: name a type of your own`));
    }
  });
  if (rule.anonymous) issues.push(source.issue('invalid_value', [...path, 'anonymous'], 'anonymous applies to HTTP rules: an access question always names its subject'));
  if (rule.permission !== undefined) {
    issues.push(source.issue('invalid_value', [...path, 'permission'], 'permission names what an HTTP rule grants in the permissions header; an access rule grants none'));
  }
  if (issues.length > before || resources === undefined) return undefined;
  return { actions: actions && new Set(actions), resources: [...new Set(resources)] };
}

export function compileSubjectProperties(spec: PolicySpec): SubjectPropertySettings {
  return { fromCaller: new Set(spec.subjectProperties.fromCaller), callerOverrides: new Set(spec.subjectProperties.callerOverrides) };
}

/** Issuer names an identity can carry besides the settings file's issuers and introspection endpoints. */
const BUILT_IN_ISSUERS = ['api-key', 'session', 'mtls'];

/** `authzen.callers`, checked: known issuers, valid principal patterns. */
export function compileAuthzenCallers(spec: PolicySpec, source: YamlSource, issues: ConfigIssue[], issuerNames: ReadonlySet<string>): AuthzenCallerPattern[] {
  const callers: AuthzenCallerPattern[] = [];
  spec.authzen?.callers.forEach((entry, index) => {
    const at = ['authzen', 'callers', index];
    const before = issues.length;
    if (entry.issuer !== undefined && !issuerNames.has(entry.issuer) && !BUILT_IN_ISSUERS.includes(entry.issuer)) {
      issues.push(source.issue('unknown_issuer', [...at, 'issuer'], `issuer "${entry.issuer}" is not configured in the settings file (nor one of ${BUILT_IN_ISSUERS.join(', ')})`));
    }
    const principal = entry.principal === undefined ? undefined : compilePrincipalPattern(entry.principal);
    if (typeof principal === 'string') issues.push(source.issue('invalid_value', [...at, 'principal'], principal));
    if (issues.length > before) return;
    callers.push({
      ...(entry.subject !== undefined && { subject: entry.subject }),
      ...(entry.issuer !== undefined && { issuer: entry.issuer }),
      ...(principal !== undefined && typeof principal !== 'string' && { principal }),
      ...(entry.role !== undefined && { role: entry.role }),
    });
  });
  return callers;
}
