// The permissions header: after an allow, which permissions the caller holds for this service,
// so the service can make finer decisions itself. A permission is held when an allow rule's
// conditions hold for the caller; relation conditions are judged with this request's parameters.
// A rule written with `match.permissions` grants those names (the service's `x-keycard-permission`),
// any other allow rule its `permission:` (the rule id by default).
import { applyRule, type CallerContext } from './evaluate.js';
import type { Params } from './path-template.js';
import type { CompiledPolicy } from './types.js';

export async function permissionsFor(policy: CompiledPolicy, caller: CallerContext, params: Params): Promise<string[]> {
  const held = new Set<string>();
  for (const rule of policy.rules) {
    if (rule.effect !== 'allow' || rule.grants.every((name) => held.has(name))) continue;
    const { trace } = await applyRule(rule, { ...caller, params });
    if (trace.outcome === 'applied') for (const name of rule.grants) held.add(name);
  }
  return [...held].sort();
}
