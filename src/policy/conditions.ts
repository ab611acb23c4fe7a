// Rule conditions (`when:`). Each kind compiles from its YAML form to a Condition object; new
// kinds are added here and in the policy schema, and nothing else has to change.
import type { Condition } from './types.js';

export function roleCondition(roles: readonly string[]): Condition {
  const wanted = [...new Set(roles)];
  const description = wanted.length === 1 ? `role ${wanted[0]}` : `role in [${wanted.join(', ')}]`;
  return {
    kind: 'role',
    description,
    evaluate({ identity, roles: held }) {
      if (!identity.authenticated) return { ok: false, detail: 'anonymous callers hold no roles' };
      return wanted.some((role) => held.has(role))
        ? { ok: true }
        : { ok: false, detail: `${identity.subject} lacks ${description}` };
    },
  };
}
