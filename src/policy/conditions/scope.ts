import { claimAt, stringList } from './claims.js';
import type { Condition } from './types.js';

/** `scope: orders:write` or a list: the token grants every listed scope (`scope` or `scp` claim). */
export function scopeCondition(scopes: readonly string[]): Condition {
  const wanted = [...new Set(scopes)];
  return {
    kind: 'scope',
    category: 'scope',
    description: `scope ${wanted.join(' ')}`,
    needsIdentity: true,
    reads: { claims: ['scope', 'scp'] },
    evaluate({ identity }) {
      const granted = new Set([...stringList(claimAt(identity, ['scope'])), ...stringList(claimAt(identity, ['scp']))]);
      const missing = wanted.filter((scope) => !granted.has(scope));
      return missing.length === 0 ? { ok: true } : { ok: false, detail: `token lacks scope ${missing.join(' ')}`, missingScopes: missing };
    },
  };
}
