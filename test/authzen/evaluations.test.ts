// The three evaluations semantics, on the spec's example: read documents 1, 2, 3 where 2 is denied.
import { describe, expect, it } from 'vitest';
import type { AuthzenDecision } from '../../src/authzen/decision-context.js';
import { runEvaluations } from '../../src/authzen/evaluations.js';

const documents = ['1', '2', '3'];
const readable = new Set(['1', '3']);

function evaluator() {
  const asked: string[] = [];
  const evaluate = async (id: string): Promise<AuthzenDecision> => {
    asked.push(id);
    return readable.has(id) ? { decision: true } : { decision: false, context: { reason: 'no_matching_rule' } };
  };
  return { asked, evaluate };
}

describe('evaluations semantics', () => {
  it('execute_all answers every item in order (spec: true, false, true)', async () => {
    const { asked, evaluate } = evaluator();
    expect(await runEvaluations(documents, 'execute_all', evaluate)).toEqual([{ decision: true }, { decision: false, context: { reason: 'no_matching_rule' } }, { decision: true }]);
    expect(asked.sort()).toEqual(documents);
  });

  it('deny_on_first_deny stops after the first deny, which says so in the spec example form', async () => {
    const { asked, evaluate } = evaluator();
    expect(await runEvaluations(documents, 'deny_on_first_deny', evaluate)).toEqual([
      { decision: true },
      { decision: false, context: { code: '200', reason: 'deny_on_first_deny', decision_reason: 'no_matching_rule' } },
    ]);
    expect(asked).toEqual(['1', '2']);
  });

  it('permit_on_first_permit stops after the first permit (spec: one entry)', async () => {
    const { asked, evaluate } = evaluator();
    expect(await runEvaluations(documents, 'permit_on_first_permit', evaluate)).toEqual([{ decision: true }]);
    expect(asked).toEqual(['1']);
  });

  it('returns every item when nothing stops the batch', async () => {
    const { evaluate } = evaluator();
    expect((await runEvaluations(['2', '2'], 'permit_on_first_permit', evaluate)).map((item) => item.decision)).toEqual([false, false]);
    expect((await runEvaluations(['1', '3'], 'deny_on_first_deny', evaluate)).map((item) => item.decision)).toEqual([true, true]);
  });
});
