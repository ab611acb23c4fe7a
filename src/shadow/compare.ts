// Comparing the enforced decision with the candidate's. What counts is what was done (allowed or
// not: a dry-run deny was allowed) and which rule decided; a different deny reason alone (say
// no_matching_rule against authentication_required) is not a disagreement, because it does not
// change what the caller gets and the rule tells the story.
import type { DenyReason } from '../errors.js';
import { decisionLabel, type Decision } from '../pipeline/types.js';

export type Verdict = 'allow' | 'deny';

/** One side of a comparison, as the metric and the audit line show it. */
export interface ComparedSide {
  readonly verdict: Verdict;
  /** allow, deny or dry_run_deny: the decision label of the audit log. */
  readonly label: 'allow' | 'deny' | 'dry_run_deny';
  readonly reason: DenyReason | 'allowed';
  /** The rule that allowed or explicitly denied; undefined when none did. */
  readonly rule: string | undefined;
}

export interface Comparison {
  readonly agree: boolean;
  readonly enforced: ComparedSide;
  readonly shadow: ComparedSide;
}

/** The `rule` label of a disagreement when the candidate decided without a rule. */
export const NO_RULE_LABEL = '_none';

export function side(decision: Decision): ComparedSide {
  return { verdict: decision.allowed ? 'allow' : 'deny', label: decisionLabel(decision), reason: decision.reason, rule: decision.ruleId };
}

export function compareDecisions(enforced: Decision, shadow: Decision): Comparison {
  const a = side(enforced);
  const b = side(shadow);
  return { agree: a.verdict === b.verdict && a.rule === b.rule, enforced: a, shadow: b };
}
