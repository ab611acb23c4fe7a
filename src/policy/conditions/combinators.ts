// `not: {...}` and `anyOf: [...]`. Inside them every condition is plain: a failure there is not
// a step-up or scope challenge, since no single credential change is known to satisfy it.
import type { Condition, ConditionResult, EvaluationContext } from './types.js';

async function settle(result: ConditionResult | Promise<ConditionResult>): Promise<ConditionResult> {
  return result;
}

export function notCondition(inner: Condition): Condition {
  return {
    kind: 'not',
    category: 'plain',
    description: `not (${inner.description})`,
    // "not role admin" holds for an anonymous caller, so it never makes a rule unreachable for one.
    needsIdentity: false,
    reads: inner.reads,
    async evaluate(context: EvaluationContext): Promise<ConditionResult> {
      const result = await settle(inner.evaluate(context));
      return result.ok ? { ok: false, detail: `${inner.description} holds` } : { ok: true };
    },
  };
}

export function anyOfCondition(options: readonly Condition[]): Condition {
  return {
    kind: 'anyOf',
    category: 'plain',
    description: `any of (${options.map((option) => option.description).join(' | ')})`,
    needsIdentity: options.every((option) => option.needsIdentity),
    reads: mergeReads(options),
    async evaluate(context: EvaluationContext): Promise<ConditionResult> {
      const failures: string[] = [];
      for (const option of options) {
        const result = await settle(option.evaluate(context));
        if (result.ok) return result;
        failures.push(result.detail);
      }
      return { ok: false, detail: `none of: ${failures.join('; ')}` };
    },
  };
}

/** Every claim and header a set of conditions reads, and whether any reads the subject directory. */
export function mergeReads(conditions: readonly Condition[]): { claims: string[]; headers: string[]; directory?: true } {
  const claims = new Set(conditions.flatMap((condition) => condition.reads?.claims ?? []));
  const headers = new Set(conditions.flatMap((condition) => condition.reads?.headers ?? []));
  const directory = conditions.some((condition) => condition.reads?.directory === true);
  return { claims: [...claims].sort(), headers: [...headers].sort(), ...(directory && { directory: true as const }) };
}
