// Which rules of a policy match an operation, found with keycard's own matcher (the rule index and
// evaluatePolicy) rather than a copy of it, so analysis and enforcement cannot disagree. The probe
// turns every rule into an unconditional dry-run deny: such a rule applies whenever it matches,
// is traced, and never stops the evaluation, so the trace lists every matching rule in order.
import { ANONYMOUS } from '../../authn/identity.js';
import { evaluatePolicy, type CallerContext } from '../../policy/evaluate.js';
import { matchPathTemplate } from '../../policy/path-template.js';
import { RuleIndex } from '../../policy/rule-index.js';
import type { CompiledPolicy, CompiledRule } from '../../policy/types.js';
import type { ApiOperation } from '../types.js';
import { placeholderName, representativePath, representativeSegments } from './operation-path.js';

export interface ParamRename {
  /** The name the API gives the segment. */
  readonly api: string;
  /** The name the rule's template binds it under. */
  readonly rule: string;
  /** The rule's template that matched. */
  readonly template: string;
}

export interface MatchedRule {
  readonly rule: CompiledRule;
  /** Path parameters the rule binds under another name than the API does. */
  readonly renames: readonly ParamRename[];
}

/** Each policy gets one probe, built on first use. */
const probes = new WeakMap<CompiledPolicy, CompiledPolicy>();

function probeOf(policy: CompiledPolicy): CompiledPolicy {
  let probe = probes.get(policy);
  if (!probe) {
    const rules = policy.rules.map((rule): CompiledRule => ({ ...rule, effect: 'deny', dryRun: true, conditions: [] }));
    probe = { ...policy, rules, index: new RuleIndex(rules, policy.operations) };
    probes.set(policy, probe);
  }
  return probe;
}

const PROBE_CALLER: Omit<CallerContext, 'request'> = {
  identity: ANONYMOUS,
  roles: new Set(),
  now: 0,
  relations: { check: async () => ({ ok: false, detail: 'the probe has no relations' }) },
};

/** The rules matching every request to `operation`, in policy order. */
export async function matchingRules(policy: CompiledPolicy, operation: ApiOperation): Promise<MatchedRule[]> {
  const segments = representativeSegments(operation.template);
  const request = { method: operation.method, path: representativePath(operation.template), headers: new Map<string, string>(), clientAddress: undefined };
  const evaluation = await evaluatePolicy(probeOf(policy), { method: operation.method, segments }, { ...PROBE_CALLER, request });
  const byId = new Map(policy.rules.map((rule) => [rule.id, rule]));
  const matched: MatchedRule[] = [];
  for (const entry of evaluation.trace) {
    const rule = byId.get(entry.id);
    if (rule) matched.push({ rule, renames: renamesOf(rule, operation.method, segments) });
  }
  return matched;
}

/** Parameters the first matching template of the rule (the one enforcement binds) names differently. */
function renamesOf(rule: CompiledRule, method: string, segments: readonly string[]): ParamRename[] {
  // A rule written with operations or permissions matches by the API's own templates (routes).
  const templates = rule.routes ? rule.routes.get(method) : rule.paths;
  for (const template of templates ?? []) {
    const params = matchPathTemplate(template, segments);
    if (!params) continue;
    const renames: ParamRename[] = [];
    for (const [name, value] of Object.entries(params)) {
      const api = placeholderName(value);
      if (api !== undefined && api !== name) renames.push({ api, rule: name, template: template.source });
    }
    return renames;
  }
  return [];
}
