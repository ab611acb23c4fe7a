// The actions a policy's access rules name for a resource type, in the order first written: what
// an action search asks about (a rule without `match.actions` matches any action, but names none).
import type { CompiledPolicy } from '../policy/types.js';

export function declaredActions(policy: CompiledPolicy, resourceType: string): readonly string[] {
  const names = new Set<string>();
  for (const rule of policy.accessRules) {
    if (!rule.access?.resources.includes(resourceType)) continue;
    for (const action of rule.access.actions ?? []) names.add(action);
  }
  return [...names];
}
