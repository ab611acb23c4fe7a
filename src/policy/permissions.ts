// The permissions header: after an allow, which permissions the caller holds for this service,
// so the service can make finer decisions itself. A permission is held when an allow rule's
// conditions hold for the caller; relation conditions are judged with this request's parameters.
import { applyRule, type CallerContext } from './evaluate.js';
import type { Params } from './path-template.js';
import type { CompiledPolicy } from './types.js';

export async function permissionsFor(policy: CompiledPolicy, caller: CallerContext, params: Params): Promise<string[]> {
  const held = new Set<string>();
  for (const rule of policy.rules) {
    if (rule.effect !== 'allow' || held.has(rule.permission)) continue;
    const { trace } = await applyRule(rule, { ...caller, params });
    if (trace.outcome === 'applied') held.add(rule.permission);
  }
  return [...held].sort();
}
