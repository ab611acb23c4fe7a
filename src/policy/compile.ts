// Turns one validated policy file into a CompiledPolicy, checking what a schema cannot:
// path templates, duplicate rule ids, issuer references and rules that can never match.
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { YamlSource } from '../config/yaml-file.js';
import { normalizeHost } from '../pipeline/normalize.js';
import { roleCondition } from './conditions.js';
import { isPathTemplate, parsePathTemplate, type PathTemplate } from './path-template.js';
import type { ConditionSpec, PolicySpec, RuleSpec } from './schema.js';
import type { CompiledPolicy, CompiledRule, Condition } from './types.js';

export interface CompileOptions {
  /** Issuer names from the settings file. */
  readonly issuers: ReadonlySet<string>;
}

export function compilePolicy(spec: PolicySpec, source: YamlSource, options: CompileOptions): CompiledPolicy {
  const issues: ConfigIssue[] = [];

  const issuers = spec.authentication.issuers;
  issuers?.forEach((issuer, index) => {
    if (!options.issuers.has(issuer)) {
      issues.push(source.issue('unknown_issuer', ['authentication', 'issuers', index], `issuer "${issuer}" is not configured in the settings file`));
    }
  });

  const ids = new Set<string>();
  const rules: CompiledRule[] = [];
  spec.rules.forEach((rule, index) => {
    const path = ['rules', index];
    if (ids.has(rule.id)) issues.push(source.issue('duplicate_rule_id', [...path, 'id'], `rule id "${rule.id}" is used twice`));
    ids.add(rule.id);
    const compiled = compileRule(rule, path, source, issues);
    if (compiled) rules.push(compiled);
  });

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    service: spec.service,
    hosts: spec.hosts.map(normalizeHost),
    file: source.file,
    issuers,
    rules,
    forward: spec.forward,
  };
}

function compileRule(rule: RuleSpec, path: (string | number)[], source: YamlSource, issues: ConfigIssue[]): CompiledRule | undefined {
  const before = issues.length;
  const templates: PathTemplate[] = [];
  rule.match.paths?.forEach((text, index) => {
    const parsed = parsePathTemplate(text);
    if (isPathTemplate(parsed)) templates.push(parsed);
    else issues.push(source.issue('invalid_path_template', [...path, 'match', 'paths', index], parsed.problem));
  });

  const conditions = rule.when.map(compileCondition);
  if (rule.anonymous && rule.effect === 'deny') {
    issues.push(source.issue('invalid_value', [...path, 'anonymous'], 'anonymous applies to allow rules only; a deny rule applies to every caller'));
  }
  const callerConditions = conditions.filter((condition) => condition.kind === 'role');
  if (rule.anonymous && callerConditions.length > 0) {
    issues.push(
      source.issue('rule_never_matches', [...path, 'anonymous'], `anonymous callers can never satisfy "${callerConditions[0]!.description}"`),
    );
  }
  if (issues.length > before) return undefined;

  return {
    id: rule.id,
    effect: rule.effect,
    methods: rule.match.methods ? new Set(rule.match.methods) : undefined,
    paths: rule.match.paths ? templates : undefined,
    anonymous: rule.anonymous,
    conditions,
    location: { file: source.file, line: source.locate(path).line },
  };
}

function compileCondition(spec: ConditionSpec): Condition {
  if (spec.role) return roleCondition(spec.role);
  // The schema admits exactly one known key per entry, so this is unreachable for valid input.
  throw new Error(`unsupported condition ${JSON.stringify(spec)}`);
}
