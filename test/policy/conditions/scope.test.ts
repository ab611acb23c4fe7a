// `scope:` conditions: every listed scope must be granted, by the `scope` claim (a space-separated
// string, RFC 8693/9068) or the `scp` claim (an array, or a string). A rule failing only on scope
// is an insufficient_scope deny that names the missing scopes.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type CallerContext } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, policyWhen, user } from '../../helpers/policy.js';

async function apply(when: string, claims: Record<string, unknown>, overrides: Partial<CallerContext> = {}) {
  return applyWhen(when, { identity: user('u', claims), ...overrides });
}

describe('scope condition', () => {
  it('holds when the space-separated scope claim grants the scope', async () => {
    expect(await apply('{ scope: orders:read }', { scope: 'openid orders:read profile' })).toEqual({ outcome: 'applied' });
  });

  it('requires every listed scope, and reports exactly the missing ones in the listed order', async () => {
    const when = '{ scope: [orders:read, orders:write, orders:admin] }';
    expect(await apply(when, { scope: 'orders:read orders:write orders:admin' })).toEqual({ outcome: 'applied' });
    expect(await apply(when, { scope: 'orders:write' })).toEqual({
      outcome: 'insufficient_scope',
      failed: 'token lacks scope orders:read orders:admin',
      challenge: { scope: ['orders:read', 'orders:admin'] },
    });
  });

  it('reads the scp claim as an array', async () => {
    expect(await apply('{ scope: [orders:read, orders:write] }', { scp: ['orders:read', 'orders:write'] })).toEqual({ outcome: 'applied' });
    expect(await apply('{ scope: [orders:read, orders:write] }', { scp: ['orders:read'] })).toMatchObject({ challenge: { scope: ['orders:write'] } });
  });

  it('reads an scp claim written as a space-separated string too', async () => {
    expect(await apply('{ scope: orders:write }', { scp: 'orders:read orders:write' })).toEqual({ outcome: 'applied' });
  });

  it('grants the union of scope and scp', async () => {
    expect(await apply('{ scope: [a, b] }', { scope: 'a', scp: ['b'] })).toEqual({ outcome: 'applied' });
  });

  it('matches whole scope tokens only, case-sensitively', async () => {
    for (const scope of ['orders:readonly', 'Orders:read', 'orders', 'orders:read,orders:write']) {
      expect(await apply('{ scope: orders:read }', { scope }), scope).toMatchObject({ outcome: 'insufficient_scope' });
    }
  });

  it('ignores repeated and surrounding spaces in the scope claim', async () => {
    expect(await apply('{ scope: [a, b] }', { scope: '  a   b ' })).toEqual({ outcome: 'applied' });
  });

  it('treats a missing or non-string scope claim as granting nothing', async () => {
    for (const claims of [{}, { scope: 42 }, { scope: { a: true } }, { scp: [1, 2] }, { scope: null }]) {
      expect(await apply('{ scope: a }', claims), JSON.stringify(claims)).toEqual({
        outcome: 'insufficient_scope',
        failed: 'token lacks scope a',
        challenge: { scope: ['a'] },
      });
    }
  });

  it('denies a token lacking a scope with insufficient_scope and the missing scopes', async () => {
    const result = await evaluatePolicy(policyWhen('{ scope: [orders:read, orders:write] }'), { method: 'GET', segments: [] }, callerContext({ identity: user('u', { scope: 'orders:read' }) }));
    expect(result).toMatchObject({ allowed: false, reason: 'insufficient_scope', challenge: { scope: ['orders:write'] } });
  });

  it('names each missing scope once when several scope conditions ask for it', async () => {
    // RFC 6750 §3: `scope` is a list of scope values; asking twice for one is noise.
    expect(await apply('{ scope: a }, { scope: [a, b] }', {})).toMatchObject({ outcome: 'insufficient_scope', challenge: { scope: ['a', 'b'] } });
  });

  it('records the scope and scp claims for replay', () => {
    expect(policyWhen('{ scope: a }').recorded.claims).toEqual(['scope', 'scp']);
  });
});
