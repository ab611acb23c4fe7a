// Rule evaluation: an explicit deny that applies wins; otherwise the first allow that applies;
// otherwise deny. Every rule that matched the request is recorded in the trace, with the
// condition that stopped it, so a decision can always be explained.
import type { Identity } from '../authn/identity.js';
import type { DenyReason } from '../errors.js';
import { matchPathTemplate, type Params } from './path-template.js';
import type { CompiledPolicy, CompiledRule, Effect } from './types.js';

export interface RequestFacts {
  readonly method: string;
  readonly segments: readonly string[];
}

export type RuleOutcome = 'applied' | 'condition_failed' | 'needs_authentication';

export interface RuleTrace {
  readonly id: string;
  readonly effect: Effect;
  readonly outcome: RuleOutcome;
  /** Description of the condition that failed, and why. */
  readonly failed?: string;
}

export interface Evaluation {
  readonly allowed: boolean;
  readonly reason: DenyReason | 'allowed';
  readonly rule?: CompiledRule;
  readonly params: Params;
  readonly trace: readonly RuleTrace[];
}

export interface Caller {
  readonly identity: Identity;
  readonly roles: ReadonlySet<string>;
}

interface Match {
  readonly rule: CompiledRule;
  readonly params: Params;
}

export function evaluatePolicy(policy: CompiledPolicy, request: RequestFacts, caller: Caller): Evaluation {
  const trace: RuleTrace[] = [];
  let allow: Match | undefined;

  for (const rule of policy.rules) {
    // Once an allow is found only deny rules can change the answer.
    if (allow && rule.effect === 'allow') continue;
    const params = matchRequest(rule, request);
    if (!params) continue;
    const outcome = applyRule(rule, params, caller);
    trace.push({ id: rule.id, effect: rule.effect, ...outcome });
    if (outcome.outcome !== 'applied') continue;
    if (rule.effect === 'deny') return { allowed: false, reason: 'explicit_deny', rule, params, trace };
    allow = { rule, params };
  }

  if (allow) return { allowed: true, reason: 'allowed', rule: allow.rule, params: allow.params, trace };
  // An anonymous caller that was not let in might be by authenticating: say so with a 401.
  const reason: DenyReason = caller.identity.authenticated ? 'no_matching_rule' : 'authentication_required';
  return { allowed: false, reason, params: {}, trace };
}

function matchRequest(rule: CompiledRule, request: RequestFacts): Params | undefined {
  if (rule.methods && !rule.methods.has(request.method)) return undefined;
  if (!rule.paths) return {};
  for (const template of rule.paths) {
    const params = matchPathTemplate(template, request.segments);
    if (params) return params;
  }
  return undefined;
}

function applyRule(rule: CompiledRule, params: Params, caller: Caller): { outcome: RuleOutcome; failed?: string } {
  // Allow rules need an authenticated caller unless they say `anonymous: true`; deny rules apply to all.
  if (rule.effect === 'allow' && !rule.anonymous && !caller.identity.authenticated) {
    return { outcome: 'needs_authentication' };
  }
  const context = { identity: caller.identity, roles: caller.roles, params };
  for (const condition of rule.conditions) {
    const result = condition.evaluate(context);
    if (!result.ok) return { outcome: 'condition_failed', failed: result.detail ?? condition.description };
  }
  return { outcome: 'applied' };
}
