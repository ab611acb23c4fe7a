// The symbolic decision for one operation and one caller class, in keycard's evaluation order
// (evaluate.ts): an enforced deny rule that applies wins; otherwise the first allow rule that
// applies; otherwise deny. Requirements the class does not settle make the answer conditional.
import type { CompiledRule } from '../../policy/types.js';
import type { CallerClass } from './caller-class.js';
import { ruleCase, type RuleCase } from './rule-case.js';

export type Decision = 'allow' | 'conditional' | 'deny';

export interface Verdict {
  readonly caller: CallerClass;
  /** `allow`: always; `deny`: never; `conditional`: when some requirements hold. */
  readonly decision: Decision;
  /** Allow rules that may grant, in policy order, up to the first that grants unconditionally. */
  readonly grants: readonly RuleCase[];
  /** Enforced deny rules that may apply; an unconditional one comes first and decides. */
  readonly denies: readonly RuleCase[];
  /** Dry-run deny rules that may apply: recorded as would-be denials, not enforced. */
  readonly dryRunDenies: readonly RuleCase[];
}

/** `rules`: the rules matching the operation, in policy order. */
export async function verdictFor(rules: readonly CompiledRule[], caller: CallerClass): Promise<Verdict> {
  const grants: RuleCase[] = [];
  const denies: RuleCase[] = [];
  const dryRunDenies: RuleCase[] = [];
  let granted = false;
  for (const rule of rules) {
    if (rule.effect === 'allow' && granted) continue;
    const applied = await ruleCase(rule, caller);
    if (!applied) continue;
    if (rule.effect === 'allow') {
      grants.push(applied);
      granted = applied.requires.length === 0;
    } else if (rule.dryRun) {
      dryRunDenies.push(applied);
    } else {
      denies.push(applied);
    }
  }
  const deciding = denies.findIndex((deny) => deny.requires.length === 0);
  if (deciding >= 0) {
    const [deny] = denies.splice(deciding, 1);
    return { caller, decision: 'deny', grants, denies: [deny!, ...denies], dryRunDenies };
  }
  const decision: Decision = grants.length === 0 ? 'deny' : granted && denies.length === 0 ? 'allow' : 'conditional';
  return { caller, decision, grants, denies, dryRunDenies };
}

export interface Outcome {
  readonly allowed: boolean;
  /** The rule that decided; undefined for a deny because no allow rule applied. */
  readonly rule: CompiledRule | undefined;
}

/** The decision when exactly the requirements for which `holds` is true are met. */
export function decide(verdict: Verdict, holds: (requirement: string) => boolean): Outcome {
  const applies = (entry: RuleCase) => entry.requires.every(holds);
  const deny = verdict.denies.find(applies);
  if (deny) return { allowed: false, rule: deny.rule };
  const grant = verdict.grants.find(applies);
  return grant ? { allowed: true, rule: grant.rule } : { allowed: false, rule: undefined };
}

/** Every requirement the verdict mentions, sorted. */
export function requirementsOf(verdict: Verdict): string[] {
  return [...new Set([...verdict.grants, ...verdict.denies].flatMap((entry) => entry.requires))].sort();
}
