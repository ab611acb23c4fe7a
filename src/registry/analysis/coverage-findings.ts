// The findings of one service's coverage. Each check reads the operation coverages (so it judges
// what enforcement would do), and reports rule problems at the rule's line and operation problems
// at the operation's JSON pointer in the API description.
import { READ_ONLY_METHODS } from '../../policy/lint-warnings.js';
import type { CompiledPolicy, CompiledRule } from '../../policy/types.js';
import type { ApiDescription, ApiOperation } from '../types.js';
import { callerLabel } from './caller-class.js';
import { finding, type Finding } from './findings.js';
import { ruleOverlaps, type OperationCoverage } from './operation-coverage.js';
import { templatesOverlap } from './operation-path.js';
import { permissionFindings } from './permission-findings.js';
import { decisionText } from './verdict-text.js';

export function serviceFindings(policy: CompiledPolicy, api: ApiDescription, operations: readonly OperationCoverage[]): Finding[] {
  return [
    ...operations.flatMap((coverage) => unreachable(policy, api, coverage)),
    ...operations.flatMap((coverage) => anonymousUnsafe(policy, api, coverage)),
    ...deadRules(policy, api, operations),
    ...paramMismatches(policy, operations),
    ...operations.flatMap((coverage) => dryRunRuleGrants(policy, api, coverage)),
    ...dryRunMode(policy, operations),
    ...permissionFindings(policy, api, operations),
  ];
}

function where(operation: ApiOperation): string {
  return operation.operationId === undefined ? `${operation.method} ${operation.path}` : `${operation.operationId} (${operation.method} ${operation.path})`;
}

function atOperation(policy: CompiledPolicy, api: ApiDescription, coverage: OperationCoverage): Pick<Finding, 'service' | 'file' | 'pointer' | 'operation'> {
  return { service: policy.service, file: api.file, pointer: coverage.operation.pointer, operation: coverage.label };
}

function atRule(policy: CompiledPolicy, rule: CompiledRule): Pick<Finding, 'service' | 'file' | 'line' | 'rule'> {
  return { service: policy.service, file: rule.location.file, line: rule.location.line, rule: rule.id };
}

const ids = (rules: readonly CompiledRule[]) => rules.map((rule) => rule.id).join(', ');

function unreachable(policy: CompiledPolicy, api: ApiDescription, coverage: OperationCoverage): Finding[] {
  if (coverage.verdicts.some((verdict) => verdict.decision !== 'deny')) return [];
  const allows = coverage.rules.map((entry) => entry.rule).filter((rule) => rule.effect === 'allow');
  // Every class denied by an unconditional deny rule (the first of `denies` when one decides).
  const deciding = coverage.verdicts.every((verdict) => verdict.denies[0]?.requires.length === 0) ? [...new Set(coverage.verdicts.map((verdict) => verdict.denies[0]!.rule))] : [];
  let why: string;
  if (deciding.length > 0) why = `deny rule${deciding.length === 1 ? '' : 's'} ${ids(deciding)} ${deciding.length === 1 ? 'applies' : 'apply'} to every caller`;
  else if (allows.length === 0) why = 'no allow rule matches it';
  else why = `the allow rules matching it (${ids(allows)}) apply to none of ${coverage.verdicts.map((verdict) => callerLabel(verdict.caller)).join(', ')}`;
  const mode = policy.mode === 'dry-run' ? ' (the service is in dry-run mode: requests are let through and recorded)' : '';
  return [finding('operation_unreachable', { ...atOperation(policy, api, coverage), message: `${where(coverage.operation)}: every caller is denied: ${why}${mode}` })];
}

function anonymousUnsafe(policy: CompiledPolicy, api: ApiDescription, coverage: OperationCoverage): Finding[] {
  const { operation } = coverage;
  const anonymous = coverage.verdicts.find((verdict) => verdict.caller.kind === 'anonymous');
  if (READ_ONLY_METHODS.has(operation.method) || !anonymous || anonymous.decision === 'deny') return [];
  return [
    finding('anonymous_unsafe_method', {
      ...atOperation(policy, api, coverage),
      message: `${where(operation)}: callers without a credential may use ${operation.method}: ${decisionText(anonymous)}`,
    }),
  ];
}

function deadRules(policy: CompiledPolicy, api: ApiDescription, operations: readonly OperationCoverage[]): Finding[] {
  const alive = new Set<CompiledRule>();
  for (const coverage of operations) {
    for (const entry of coverage.rules) alive.add(entry.rule);
    for (const rule of coverage.partial) alive.add(rule);
  }
  const found: Finding[] = [];
  for (const rule of policy.rules) {
    if (!alive.has(rule)) {
      found.push(finding('rule_matches_no_operation', { ...atRule(policy, rule), message: `rule ${rule.id} matches no operation of ${api.file}${methodHint(rule, api)}` }));
      continue;
    }
    // Routes (match.operations / match.permissions) are the API's own templates: none is dead.
    if (rule.routes || !rule.paths || rule.paths.length < 2) continue;
    for (const template of rule.paths) {
      const used = api.operations.some((operation) => (!rule.methods || rule.methods.has(operation.method)) && templatesOverlap(template, operation.template));
      if (!used) {
        found.push(finding('path_matches_no_operation', { ...atRule(policy, rule), message: `path ${template.source} of rule ${rule.id} matches no operation of ${api.file}${methodHint({ ...rule, paths: [template] }, api)}` }));
      }
    }
  }
  return found;
}

/** When the paths match operations but the methods do not, says which methods they have. */
function methodHint(rule: CompiledRule, api: ApiDescription): string {
  if (!rule.methods || rule.routes) return '';
  const methods = new Set(api.operations.filter((operation) => ruleOverlaps({ ...rule, methods: undefined }, operation)).map((operation) => operation.method));
  return methods.size === 0 ? '' : ` (its paths match operations only for ${[...methods].sort().join(', ')})`;
}

function paramMismatches(policy: CompiledPolicy, operations: readonly OperationCoverage[]): Finding[] {
  const groups = new Map<string, { rule: CompiledRule; template: string; api: string; name: string; operations: string[] }>();
  for (const coverage of operations) {
    for (const { rule, renames } of coverage.rules) {
      for (const rename of renames) {
        const key = `${rule.index}\0${rename.template}\0${rename.rule}\0${rename.api}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { rule, template: rename.template, api: rename.api, name: rename.rule, operations: [] }));
        group.operations.push(coverage.label);
      }
    }
  }
  return [...groups.values()].map((group) =>
    finding('param_name_mismatch', {
      ...atRule(policy, group.rule),
      message: `rule ${group.rule.id} binds {${group.name}} in ${group.template} where the API names it {${group.api}} (${group.operations.join(', ')})`,
    }),
  );
}

function dryRunRuleGrants(policy: CompiledPolicy, api: ApiDescription, coverage: OperationCoverage): Finding[] {
  const spared = coverage.verdicts.filter((verdict) => verdict.decision !== 'deny' && verdict.dryRunDenies.length > 0);
  if (spared.length === 0) return [];
  const rules = [...new Set(spared.flatMap((verdict) => verdict.dryRunDenies.map((entry) => entry.rule)))];
  const callers = spared.map((verdict) => callerLabel(verdict.caller)).join(', ');
  return [
    finding('dry_run_only_grant', {
      ...atOperation(policy, api, coverage),
      message: `${where(coverage.operation)}: ${callers} ${spared.length === 1 ? 'is' : 'are'} allowed only because deny rule ${ids(rules)} is dry-run`,
    }),
  ];
}

function dryRunMode(policy: CompiledPolicy, operations: readonly OperationCoverage[]): Finding[] {
  if (policy.mode !== 'dry-run') return [];
  // Operations every caller is denied are operation_unreachable already.
  const spared = operations.flatMap((coverage) =>
    coverage.verdicts.some((verdict) => verdict.decision !== 'deny') ? coverage.verdicts.filter((verdict) => verdict.decision === 'deny').map((verdict) => `${callerLabel(verdict.caller)} on ${coverage.label}`) : [],
  );
  if (spared.length === 0) return [];
  return [
    finding('dry_run_only_grant', {
      service: policy.service,
      file: policy.file,
      message: `service ${policy.service} is in dry-run mode: requests the policy denies are let through, for ${spared.length} operation and caller pair${spared.length === 1 ? '' : 's'} (${listed(spared)})`,
    }),
  ];
}

/** The first few items, then how many more: a message stays one readable line. */
function listed(items: readonly string[], shown = 5): string {
  return items.length <= shown ? items.join(', ') : `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}
