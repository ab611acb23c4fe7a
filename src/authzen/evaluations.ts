// The three evaluations semantics of /access/v1/evaluations, over any per-item evaluator:
// execute_all answers every item (in parallel, in request order); deny_on_first_deny and
// permit_on_first_permit evaluate in order and stop after the first deny (resp. permit), whose
// entry is the last one returned. The entry that stopped a deny_on_first_deny batch says so in
// the spec example's form (`code: "200"`, `reason: "deny_on_first_deny"`); keycard's own reason
// code moves to `decision_reason`.
import type { AuthzenDecision } from './decision-context.js';
import type { EvaluationsSemantic } from './request-shapes.js';

export async function runEvaluations<T>(
  items: readonly T[],
  semantic: EvaluationsSemantic,
  evaluate: (item: T, index: number) => Promise<AuthzenDecision>,
): Promise<AuthzenDecision[]> {
  if (semantic === 'execute_all') return Promise.all(items.map((item, index) => evaluate(item, index)));
  const stopOn = semantic === 'permit_on_first_permit';
  const results: AuthzenDecision[] = [];
  for (const [index, item] of items.entries()) {
    const result = await evaluate(item, index);
    if (result.decision !== stopOn) {
      results.push(result);
      continue;
    }
    results.push(stopOn ? result : markStop(result));
    break;
  }
  return results;
}

function markStop(result: AuthzenDecision): AuthzenDecision {
  const { reason, ...rest } = result.context ?? {};
  return {
    decision: false,
    context: { ...rest, code: '200', reason: 'deny_on_first_deny', ...(reason !== undefined && { decision_reason: reason }) },
  };
}
