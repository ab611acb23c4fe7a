// `role:` conditions: any of the listed roles, held in the live store (never read from the token).
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../src/authn/identity.js';
import { applyRule, evaluatePolicy } from '../../../src/policy/evaluate.js';
import { applyWhen as apply, callerContext, compileYaml, loadErrors, user } from '../../helpers/policy.js';

const alice = user('alice');

describe('role condition', () => {
  it('holds when the caller has any one of the listed roles', async () => {
    for (const held of [['support'], ['admin'], ['support', 'admin'], ['viewer', 'admin']]) {
      expect(await apply('{ role: [support, admin] }', { identity: alice, roles: new Set(held) }), held.join()).toEqual({ outcome: 'applied' });
    }
  });

  it('fails, naming the subject and the roles, when the caller has none of them', async () => {
    expect(await apply('{ role: [support, admin] }', { identity: alice, roles: new Set(['customer']) })).toEqual({
      outcome: 'condition_failed',
      failed: 'alice lacks role in [support, admin]',
    });
  });

  it('accepts a single role written as a string, and lists a repeated role once', async () => {
    expect(await apply('{ role: admin }', { identity: alice, roles: new Set() })).toMatchObject({ failed: 'alice lacks role admin' });
    expect(await apply('{ role: [admin, admin] }', { identity: alice, roles: new Set() })).toMatchObject({ failed: 'alice lacks role admin' });
    expect(await apply('{ role: admin }', { identity: alice, roles: new Set(['admin']) })).toEqual({ outcome: 'applied' });
  });

  it('compares role names exactly (case-sensitive, no prefixes)', async () => {
    expect(await apply('{ role: admin }', { identity: alice, roles: new Set(['Admin', 'admins', 'admin:read']) })).toMatchObject({ outcome: 'condition_failed' });
  });

  it('takes roles from the store only: a roles claim in the token grants nothing', async () => {
    const claimed = user('mallory', { roles: ['admin'], role: 'admin', groups: ['admin'] });
    expect(await apply('{ role: admin }', { identity: claimed, roles: new Set() })).toEqual({ outcome: 'condition_failed', failed: 'mallory lacks role admin' });
  });

  it('never holds for an anonymous caller, even when the role set is not empty', async () => {
    // A deny rule applies to anonymous callers, so the condition itself is evaluated.
    const deny = compileYaml('service: s\nrules:\n  - { id: d, effect: deny, when: [{ role: admin }] }\n').rules[0]!;
    const { trace } = await applyRule(deny, { ...callerContext({ identity: ANONYMOUS, roles: new Set(['admin']) }), params: {} });
    expect(trace).toEqual({ outcome: 'condition_failed', failed: 'anonymous callers hold no roles' });
  });

  it('asks an anonymous caller to authenticate where only a role rule matches', async () => {
    const policy = compileYaml('service: s\nrules:\n  - { id: r, effect: allow, when: [{ role: admin }] }\n');
    const result = await evaluatePolicy(policy, { method: 'GET', segments: [] }, callerContext());
    expect(result).toMatchObject({ allowed: false, reason: 'authentication_required' });
  });

  it('rejects a role name with spaces or punctuation at load', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ role: "super admin" }] }\n')).toEqual([
      'policy.yaml:3:44 [invalid_value] rules[0].when[0].role: a role may use letters, digits, ".", ":", "/", "_" and "-"',
    ]);
  });

  it('makes an anonymous rule with a role condition a load error', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, when: [{ role: admin }] }\n')).toEqual([
      'policy.yaml:3:40 [rule_never_matches] rules[0].anonymous: anonymous callers can never satisfy "role admin"',
    ]);
  });
});
