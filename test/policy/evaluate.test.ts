import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { callerContext, compileYaml, user } from '../helpers/policy.js';
import { ORDERS_POLICY } from '../helpers/workspace.js';

const policy = compileYaml(ORDERS_POLICY);

function decide(method: string, path: string, caller: { subject?: string; roles?: string[] } = {}) {
  const identity = caller.subject ? user(caller.subject) : ANONYMOUS;
  return evaluatePolicy(policy, { method, segments: path.split('/').filter(Boolean) }, callerContext({ identity, roles: new Set(caller.roles ?? []) }));
}

describe('evaluatePolicy', () => {
  it('allows an anonymous rule without a credential', async () => {
    expect(await decide('GET', '/healthz')).toMatchObject({ allowed: true, reason: 'allowed', rule: { id: 'health' } });
  });

  it('asks an anonymous caller to authenticate (401) where only authenticated rules match', async () => {
    const result = await decide('GET', '/orders/42');
    expect(result).toMatchObject({ allowed: false, reason: 'authentication_required' });
    expect(result.trace).toContainEqual({ id: 'read', effect: 'allow', outcome: 'needs_authentication' });
  });

  it('allows by role and binds path parameters', async () => {
    expect(await decide('GET', '/orders/42', { subject: 'alice', roles: ['customer'] })).toMatchObject({
      allowed: true,
      rule: { id: 'read' },
      params: { id: '42' },
    });
  });

  it('denies with no_matching_rule and explains which condition failed', async () => {
    const result = await decide('POST', '/orders/42/refund', { subject: 'alice', roles: ['customer'] });
    expect(result).toMatchObject({ allowed: false, reason: 'no_matching_rule' });
    expect(result.trace).toEqual([
      { id: 'refund', effect: 'allow', outcome: 'condition_failed', failed: 'alice lacks role finance' },
      { id: 'support-all', effect: 'allow', outcome: 'condition_failed', failed: 'alice lacks role support' },
    ]);
  });

  it('lets an explicit deny win over an allow, wherever the allow stands', async () => {
    expect(await decide('GET', '/v1/orders', { subject: 'sam', roles: ['support'] })).toMatchObject({
      allowed: false,
      reason: 'explicit_deny',
      rule: { id: 'legacy-off' },
    });
    const allowFirst = compileYaml(`
service: s
rules:
  - { id: everyone, effect: allow, match: { paths: ["/**"] }, anonymous: true }
  - { id: no-admin, effect: deny, match: { paths: ["/admin/**"] } }
`);
    const result = await evaluatePolicy(allowFirst, { method: 'GET', segments: ['admin', 'x'] }, callerContext());
    expect(result).toMatchObject({ allowed: false, reason: 'explicit_deny', rule: { id: 'no-admin' } });
    expect(result.trace.map((rule) => [rule.id, rule.outcome])).toEqual([
      ['everyone', 'applied'],
      ['no-admin', 'applied'],
    ]);
  });

  it('skips a deny rule whose conditions do not hold', async () => {
    const conditional = compileYaml(`
service: s
rules:
  - { id: all, effect: allow, when: [{ role: user }] }
  - { id: no-interns, effect: deny, match: { methods: [DELETE] }, when: [{ role: intern }] }
`);
    const caller = (roles: string[]) => callerContext({ identity: user('u'), roles: new Set(roles) });
    expect(await evaluatePolicy(conditional, { method: 'DELETE', segments: [] }, caller(['user']))).toMatchObject({ allowed: true });
    expect(await evaluatePolicy(conditional, { method: 'DELETE', segments: [] }, caller(['user', 'intern']))).toMatchObject({
      allowed: false,
      reason: 'explicit_deny',
    });
  });

  it('applies deny rules to anonymous callers too', async () => {
    expect(await decide('GET', '/v1/x')).toMatchObject({ allowed: false, reason: 'explicit_deny' });
  });

  it('matches methods exactly', async () => {
    expect(await decide('DELETE', '/orders/42', { subject: 'alice', roles: ['customer'] })).toMatchObject({ allowed: false, reason: 'no_matching_rule' });
    expect(await decide('GET', '/orders/42/refund', { subject: 'fiona', roles: ['finance'] })).toMatchObject({ allowed: false });
  });

  it('accepts any of several roles', async () => {
    expect(await decide('GET', '/orders/1', { subject: 'sam', roles: ['support'] })).toMatchObject({ allowed: true, rule: { id: 'read' } });
  });

  it('denies an authenticated caller with no roles where rules need one', async () => {
    expect(await decide('GET', '/orders/1', { subject: 'nobody' })).toMatchObject({ allowed: false, reason: 'no_matching_rule' });
  });

  it('treats a rule without match as matching every request', async () => {
    const open = compileYaml('service: s\nrules:\n  - { id: all, effect: allow, when: [{ role: x }] }\n');
    const result = await evaluatePolicy(open, { method: 'PATCH', segments: ['a', 'b'] }, callerContext({ identity: user('u'), roles: new Set(['x']) }));
    expect(result).toMatchObject({ allowed: true, rule: { id: 'all' } });
  });
});
