import type { Condition } from './types.js';

/** `role: admin` or `role: [support, admin]`: the caller holds any of the roles in the store. */
export function roleCondition(roles: readonly string[]): Condition {
  const wanted = [...new Set(roles)];
  const description = wanted.length === 1 ? `role ${wanted[0]}` : `role in [${wanted.join(', ')}]`;
  return {
    kind: 'role',
    category: 'plain',
    description,
    needsIdentity: true,
    evaluate({ identity, roles: held }) {
      if (!identity.authenticated) return { ok: false, detail: 'anonymous callers hold no roles' };
      return wanted.some((role) => held.has(role)) ? { ok: true } : { ok: false, detail: `${identity.subject} lacks ${description}` };
    },
  };
}
