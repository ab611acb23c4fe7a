// `keycard lint` warnings: policies that load but probably do not say what was meant. Each
// warning has a stable code and names file, line and key, like a load error.
import { formatKeyPath, readYamlFile, validate, type KeyPath, type YamlSource } from '../config/yaml-file.js';
import type { RoleBinding } from '../state/store.js';
import type { ConditionSpec } from './conditions/schema.js';
import type { PolicySet } from './policy-set.js';
import { policySchema, type PolicySpec } from './schema.js';
import { conditionKey, findShadowedRules, type ShadowRule } from './shadowing.js';
import type { CompiledPolicy, CompiledRule } from './types.js';

export const LINT_WARNINGS = {
  shadowed_rule: 'an earlier allow rule always decides first, so this allow rule never does',
  anonymous_write: 'an anonymous allow rule lets callers without a credential use a method that is not read-only',
  service_without_rules: 'the service has no rules, so every request to it is denied',
  unbound_role: 'a role condition names a role that no role binding of the seed gives for this service',
} as const;

export type LintWarningCode = keyof typeof LINT_WARNINGS;

export interface LintWarning {
  readonly code: LintWarningCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted key path, e.g. `rules[2].match.methods`. */
  readonly key?: string;
  readonly message: string;
}

export function formatLintWarning(warning: LintWarning): string {
  const key = warning.key ? ` ${warning.key}:` : '';
  return `${warning.file}:${warning.line}:${warning.column} warning [${warning.code}]${key} ${warning.message}`;
}

/** Methods an anonymous rule may allow without a warning. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface LintInput {
  /** A policy set that loaded without errors. */
  readonly policies: PolicySet;
  /** The seed's role bindings; undefined when no seed file is configured (the unbound-role check is skipped). */
  readonly roleBindings?: readonly RoleBinding[];
  /** Reads a policy file's source again (for keys and lines); defaults to reading `policy.file`. */
  readonly readSource?: (policy: CompiledPolicy) => { source: YamlSource; spec: PolicySpec };
}

export function lintWarnings(input: LintInput): LintWarning[] {
  const read = input.readSource ?? readPolicySource;
  const warnings: LintWarning[] = [];
  for (const policy of input.policies.policies) {
    const { source, spec } = read(policy);
    warnings.push(...policyWarnings(policy, spec, source, input.roleBindings));
  }
  return warnings.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
}

function readPolicySource(policy: CompiledPolicy): { source: YamlSource; spec: PolicySpec } {
  const { source, value } = readYamlFile(policy.file);
  return { source, spec: validate(source, policySchema, value) };
}

export function policyWarnings(policy: CompiledPolicy, spec: PolicySpec, source: YamlSource, roleBindings?: readonly RoleBinding[]): LintWarning[] {
  const warnings: LintWarning[] = [];
  const warn = (code: LintWarningCode, path: KeyPath, message: string) => {
    warnings.push({ code, file: policy.file, ...source.locate(path), key: formatKeyPath(path), message });
  };

  // Access rules (match.actions/resources) answer access questions; a policy with only those still has rules.
  if (policy.rules.length === 0 && policy.accessRules.length === 0) {
    const what = policy.mode === 'dry-run' ? 'would be denied (the service is in dry-run, so it is allowed and recorded)' : 'is denied';
    warn('service_without_rules', ['service'], `service "${policy.service}" has no rules: every request to it ${what}`);
  }

  const rules = policy.rules.map((rule): ShadowRule & { compiled: CompiledRule } => ({
    ...rule,
    compiled: rule,
    conditions: (spec.rules[rule.index]?.when ?? []).map(conditionKey),
  }));
  for (const { rule, by } of findShadowedRules(rules, { permissionsHeader: policy.forward.permissionsHeader })) {
    warn(
      'shadowed_rule',
      ['rules', rule.compiled.index],
      `allow rule "${rule.id}" never decides: the earlier allow rule "${by.id}" (line ${by.compiled.location.line}) matches all its requests, and its conditions hold whenever those of "${rule.id}" do`,
    );
  }

  for (const rule of policy.rules) {
    if (rule.effect !== 'allow' || !rule.anonymous) continue;
    const methods = rule.methods ? [...rule.methods].filter((method) => !READ_ONLY_METHODS.has(method)) : undefined;
    if (methods === undefined) {
      warn('anonymous_write', ['rules', rule.index, 'anonymous'], `anonymous rule "${rule.id}" allows every method without a credential; list read-only methods (GET, HEAD, OPTIONS) in match.methods`);
    } else if (methods.length > 0) {
      warn('anonymous_write', ['rules', rule.index, 'match', 'methods'], `anonymous rule "${rule.id}" allows ${methods.join(', ')} without a credential`);
    }
  }

  if (roleBindings) {
    spec.rules.forEach((rule, index) => {
      rule.when.forEach((condition, whenIndex) => {
        for (const { role, path } of rolesIn(condition, ['rules', index, 'when', whenIndex])) {
          const problem = unboundRole(role, policy.service, roleBindings);
          if (problem) warn('unbound_role', path, problem);
        }
      });
    });
  }
  return warnings;
}

/** Every role a `when:` entry names, nested `not` and `anyOf` included, with the key path of its list. */
export function rolesIn(condition: ConditionSpec, path: KeyPath): { role: string; path: KeyPath }[] {
  const found: { role: string; path: KeyPath }[] = [];
  for (const role of new Set(condition.role ?? [])) found.push({ role, path: [...path, 'role'] });
  if (condition.not) found.push(...rolesIn(condition.not, [...path, 'not']));
  condition.anyOf?.forEach((option, index) => found.push(...rolesIn(option, [...path, 'anyOf', index])));
  return found;
}

/** Why no caller can hold `role` for `service`, or undefined when some binding gives it. */
function unboundRole(role: string, service: string, bindings: readonly RoleBinding[]): string | undefined {
  const elsewhere = new Set<string>();
  for (const binding of bindings) {
    if (binding.role !== role) continue;
    if (binding.service === undefined || binding.service === service) return undefined;
    elsewhere.add(binding.service);
  }
  if (elsewhere.size === 0) return `role "${role}" is in no role binding of the seed`;
  return `role "${role}" is bound only for service ${[...elsewhere].sort().join(', ')}, not for "${service}"`;
}
