// `not:` and `anyOf:` nest conditions. Inside them every failure is plain: no step-up or scope
// challenge, since no single credential change is known to satisfy them.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../src/authn/identity.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { applyWhen as apply, callerContext, compileYaml, loadErrors, policyWhen, requestWith, user } from '../../helpers/policy.js';

const headers = (entries: Record<string, string>) => requestWith(entries, '10.0.0.1');

describe('not condition', () => {
  it('holds when the inner condition fails, and fails, saying so, when it holds', async () => {
    expect(await apply('{ not: { role: intern } }', { roles: new Set(['staff']) })).toEqual({ outcome: 'applied' });
    expect(await apply('{ not: { role: intern } }', { roles: new Set(['staff', 'intern']) })).toEqual({ outcome: 'condition_failed', failed: 'role intern holds' });
  });

  it('double negation is the condition itself', async () => {
    expect(await apply('{ not: { not: { role: admin } } }', { roles: new Set(['admin']) })).toEqual({ outcome: 'applied' });
    expect(await apply('{ not: { not: { role: admin } } }', { roles: new Set() })).toEqual({ outcome: 'condition_failed', failed: 'not (role admin) holds' });
  });

  it('turns a step-up or scope condition into a plain one', async () => {
    expect(await apply('{ not: { scope: admin } }', { identity: user('u', { scope: 'admin' }) })).toEqual({ outcome: 'condition_failed', failed: 'scope admin holds' });
    expect(await apply('{ not: { mfa: true } }', { identity: user('u', { amr: ['otp'] }) })).toEqual({
      outcome: 'condition_failed',
      failed: 'multi-factor authentication holds',
    });
    expect(await apply('{ not: { mfa: true } }', { identity: user('u', { amr: ['pwd'] }) })).toEqual({ outcome: 'applied' });
  });

  it('needs no caller, so "not role X" may stand on an anonymous rule and holds for anonymous callers', async () => {
    const policy = compileYaml('service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, when: [{ not: { role: blocked } }] }\n');
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, callerContext({ identity: ANONYMOUS }))).toMatchObject({ allowed: true });
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, callerContext({ identity: user('b'), roles: new Set(['blocked']) }))).toMatchObject({
      allowed: false,
      reason: 'no_matching_rule',
    });
  });
});

describe('anyOf condition', () => {
  const when = '{ anyOf: [{ role: admin }, { header: { name: x-override, equals: "1" } }] }';

  it('holds when any option holds', async () => {
    expect(await apply(when, { roles: new Set(['admin']) })).toEqual({ outcome: 'applied' });
    expect(await apply(when, { request: headers({ 'x-override': '1' }) })).toEqual({ outcome: 'applied' });
    expect(await apply(when, { roles: new Set(['admin']), request: headers({ 'x-override': '1' }) })).toEqual({ outcome: 'applied' });
  });

  it('fails with every option\'s reason when none holds', async () => {
    expect(await apply(when, { request: headers({ 'x-override': '0' }) })).toEqual({
      outcome: 'condition_failed',
      failed: 'none of: u lacks role admin; header x-override ("0") does not satisfy: equals "1"',
    });
  });

  it('nests: anyOf inside anyOf, and not inside anyOf', async () => {
    const nested = '{ anyOf: [{ role: admin }, { anyOf: [{ role: support }, { not: { sourceCidr: 10.0.0.0/8 } }] }] }';
    expect(await apply(nested, { roles: new Set(['support']) })).toEqual({ outcome: 'applied' });
    expect(await apply(nested, { request: { ...headers({}), clientAddress: '192.0.2.1' } })).toEqual({ outcome: 'applied' });
    expect(await apply(nested, { request: { ...headers({}), clientAddress: '10.1.1.1' } })).toEqual({
      outcome: 'condition_failed',
      failed: 'none of: u lacks role admin; none of: u lacks role support; source in [10.0.0.0/8] holds',
    });
  });

  it('is plain even when its options are step-up conditions: no challenge', async () => {
    const trace = await apply('{ anyOf: [{ role: admin }, { mfa: true }] }', { identity: user('u', { amr: ['pwd'] }) });
    expect(trace).toEqual({ outcome: 'condition_failed', failed: 'none of: u lacks role admin; no multi-factor authentication (amr: [pwd])' });
  });

  it('needs a caller only when every option does', () => {
    expect(() => compileYaml('service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, when: [{ anyOf: [{ role: a }, { header: { name: x-a, present: true } }] }] }\n')).not.toThrow();
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, when: [{ anyOf: [{ role: a }, { mfa: true }] }] }\n')).toEqual([
      'policy.yaml:3:40 [rule_never_matches] rules[0].anonymous: anonymous callers can never satisfy "any of (role a | multi-factor authentication)"',
    ]);
  });

  it('records the claims and headers its options read', () => {
    const policy = policyWhen('{ anyOf: [{ claim: { name: org.id, equals: a } }, { not: { header: { name: X-Tenant, present: true } } }] }');
    expect(policy.recorded).toEqual({ claims: ['org'], headers: ['x-tenant'] });
  });
});

describe('combinator load errors', () => {
  it('locates an unknown condition key inside not', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ not: { rol: intern } }] }\n')).toEqual([
      'policy.yaml:3:45 [unknown_key] rules[0].when[0].not.rol: unknown key "rol"',
    ]);
  });

  it('locates an unknown condition key inside anyOf', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ anyOf: [{ role: a }, { scop: b }] }] }\n')).toEqual([
      'policy.yaml:3:61 [unknown_key] rules[0].when[0].anyOf[1].scop: unknown key "scop"',
    ]);
  });

  it('locates a problem in a nested condition', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ anyOf: [{ not: { sourceCidr: 10.0.0.0/40 } }] }] }\n')).toEqual([
      'policy.yaml:3:67 [invalid_value] rules[0].when[0].anyOf[0].not.sourceCidr[0]: "10.0.0.0/40" is not an IPv4 or IPv6 CIDR',
    ]);
  });

  it('rejects an empty anyOf and a not with two keys', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ anyOf: [] }] }\n')).toEqual([
      expect.stringMatching(/^policy\.yaml:3:45 \[invalid_value\] rules\[0\]\.when\[0\]\.anyOf: /),
    ]);
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ not: { role: a, scope: b } }] }\n')).toEqual([
      'policy.yaml:3:43 [invalid_value] rules[0].when[0].not: each condition has exactly one key, e.g. {role: admin}',
    ]);
  });
});
