// The access picture of one operation: the rules that match every request to it, those that match
// only some (a literal where the API has a parameter), and the verdict for each caller class.
import type { CompiledPolicy, CompiledRule } from '../../policy/types.js';
import type { ApiOperation } from '../types.js';
import type { CallerClass } from './caller-class.js';
import { matchingRules, type MatchedRule } from './matching-rules.js';
import { templatesOverlap } from './operation-path.js';
import { verdictFor, type Verdict } from './verdict.js';

export interface OperationCoverage {
  readonly operation: ApiOperation;
  /** operationId, else `METHOD /path`. */
  readonly label: string;
  /** Rules matching every request to the operation, in policy order. */
  readonly rules: readonly MatchedRule[];
  /** Rules matching only some requests to it; they take no part in the verdicts. */
  readonly partial: readonly CompiledRule[];
  /** One per caller class, in the classes' order. */
  readonly verdicts: readonly Verdict[];
}

export function operationLabel(operation: Pick<ApiOperation, 'operationId' | 'method' | 'path'>): string {
  return operation.operationId ?? `${operation.method} ${operation.path}`;
}

export async function operationCoverage(policy: CompiledPolicy, operation: ApiOperation, callers: readonly CallerClass[]): Promise<OperationCoverage> {
  const rules = await matchingRules(policy, operation);
  const full = new Set(rules.map((entry) => entry.rule));
  const partial = policy.rules.filter((rule) => !full.has(rule) && ruleOverlaps(rule, operation));
  const matched = rules.map((entry) => entry.rule);
  const verdicts = await Promise.all(callers.map((caller) => verdictFor(matched, caller)));
  return { operation, label: operationLabel(operation), rules, partial, verdicts };
}

/** Whether some request to the operation could match the rule by its methods and path templates. */
export function ruleOverlaps(rule: CompiledRule, operation: ApiOperation): boolean {
  // A rule written with operations or permissions matches exact (method, template) routes.
  if (rule.routes) return rule.routes.get(operation.method)?.some((template) => templatesOverlap(template, operation.template)) ?? false;
  if (rule.methods && !rule.methods.has(operation.method)) return false;
  return rule.paths?.some((template) => templatesOverlap(template, operation.template)) ?? false;
}
