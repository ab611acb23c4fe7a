// How one rule applies to a caller class, symbolically. What the class settles is decided by
// running the condition itself against a stand-in caller: role conditions for authenticated
// classes, and every condition that looks at the caller for the anonymous class (an anonymous
// caller has no claims, roles or relations). Everything else (scopes, relations, step-up, headers,
// source addresses, time windows, `not`/`anyOf`) stays a requirement, named by its description.
import { ANONYMOUS, type AuthenticatedIdentity } from '../../authn/identity.js';
import type { Condition, EvaluationContext } from '../../policy/conditions/types.js';
import type { CompiledRule } from '../../policy/types.js';
import type { CallerClass } from './caller-class.js';

export interface RuleCase {
  readonly rule: CompiledRule;
  /** Conditions left for the request to satisfy, in rule order; empty when the rule applies unconditionally. */
  readonly requires: readonly string[];
}

/** A caller of the class; its subject is never shown and matches no relation tuple. */
const STAND_IN: AuthenticatedIdentity = {
  authenticated: true,
  subject: 'keycard-analysis',
  issuer: 'keycard-analysis',
  credential: 'jwt',
  claims: {},
  expiresAt: Number.MAX_SAFE_INTEGER,
};

function standInContext(caller: CallerClass): EvaluationContext {
  return {
    identity: caller.kind === 'anonymous' ? ANONYMOUS : STAND_IN,
    roles: new Set(caller.kind === 'role' ? [caller.role] : []),
    params: {},
    request: { method: 'GET', path: '/', headers: new Map(), clientAddress: undefined },
    now: 0,
    relations: { check: async () => ({ ok: false, detail: 'the analysis has no relations' }) },
  };
}

/** Whether the class alone settles the condition. */
function settledByClass(condition: Condition, caller: CallerClass): boolean {
  return caller.kind === 'anonymous' ? condition.needsIdentity : condition.kind === 'role';
}

/** The rule's requirements for the class, or undefined when the class can never satisfy it. */
export async function ruleCase(rule: CompiledRule, caller: CallerClass): Promise<RuleCase | undefined> {
  // Allow rules need an authenticated caller unless `anonymous: true`; deny rules apply to all (evaluate.ts).
  if (rule.effect === 'allow' && !rule.anonymous && caller.kind === 'anonymous') return undefined;
  const context = standInContext(caller);
  const requires: string[] = [];
  for (const condition of rule.conditions) {
    if (!settledByClass(condition, caller)) {
      requires.push(condition.description);
      continue;
    }
    let holds: boolean;
    try {
      holds = (await condition.evaluate(context)).ok;
    } catch {
      // A condition that cannot judge a stand-in is left to the request (never silently true).
      requires.push(condition.description);
      continue;
    }
    if (!holds) return undefined;
  }
  return { rule, requires: [...new Set(requires)] };
}
