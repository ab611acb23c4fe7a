// The actions a policy's access rules name for a resource type, in the order first written: what
// an action search asks about (a rule without `match.actions` matches any action, but names none).
// Listed once, when the policy loads (AccessRuleIndex).
import type { CompiledPolicy } from '../policy/types.js';

export function declaredActions(policy: CompiledPolicy, resourceType: string): readonly string[] {
  return policy.accessIndex.declaredActions(resourceType);
}
