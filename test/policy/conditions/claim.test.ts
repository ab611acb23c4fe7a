// `claim:` conditions on verified token claims: equals, oneOf, present, matches (RE2, anchored);
// dotted paths into nested claims; an array claim matches when any element does; scalars
// compare as strings, so 42 and "42" are the same value.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../src/authn/identity.js';
import { applyRule, type CallerContext } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, loadErrors, policyWhen, user } from '../../helpers/policy.js';

async function apply(when: string, claims: Record<string, unknown>, overrides: Partial<CallerContext> = {}) {
  return applyWhen(when, { identity: user('u', claims), ...overrides });
}

async function holds(when: string, claims: Record<string, unknown>): Promise<boolean> {
  const trace = await apply(when, claims);
  if (trace.outcome !== 'applied' && trace.outcome !== 'condition_failed') throw new Error(`unexpected outcome ${trace.outcome}`);
  return trace.outcome === 'applied';
}

describe('claim condition: equals', () => {
  it('holds for an equal string and explains a mismatch with the actual value', async () => {
    expect(await apply('{ claim: { name: tenant, equals: acme } }', { tenant: 'acme' })).toEqual({ outcome: 'applied' });
    expect(await apply('{ claim: { name: tenant, equals: acme } }', { tenant: 'acme-corp' })).toEqual({
      outcome: 'condition_failed',
      failed: 'claim tenant ("acme-corp") does not satisfy: equals "acme"',
    });
  });

  it('compares strings exactly: case and surrounding spaces matter', async () => {
    for (const tenant of ['ACME', ' acme', 'acme ', 'acm']) expect(await holds('{ claim: { name: tenant, equals: acme } }', { tenant }), tenant).toBe(false);
  });

  it('compares numbers and numeric strings as the same value', async () => {
    const when = '{ claim: { name: level, equals: 42 } }';
    expect(await holds(when, { level: 42 })).toBe(true);
    expect(await holds(when, { level: '42' })).toBe(true);
    expect(await holds(when, { level: 43 })).toBe(false);
    expect(await holds(when, { level: 420 })).toBe(false);
    expect(await holds('{ claim: { name: level, equals: "42" } }', { level: 42 })).toBe(true);
  });

  it('compares booleans as "true" and "false"', async () => {
    expect(await holds('{ claim: { name: email_verified, equals: true } }', { email_verified: true })).toBe(true);
    expect(await holds('{ claim: { name: email_verified, equals: true } }', { email_verified: false })).toBe(false);
    expect(await holds('{ claim: { name: email_verified, equals: true } }', {})).toBe(false);
    expect(await holds('{ claim: { name: email_verified, equals: false } }', { email_verified: false })).toBe(true);
  });

  it('reports an absent claim as absent', async () => {
    expect(await apply('{ claim: { name: tenant, equals: acme } }', {})).toEqual({
      outcome: 'condition_failed',
      failed: 'claim tenant (absent) does not satisfy: equals "acme"',
    });
  });

  it('never treats inherited object properties as claims', async () => {
    expect(await holds('{ claim: { name: toString, present: true } }', {})).toBe(false);
    expect(await holds('{ claim: { name: constructor.name, equals: Object } }', {})).toBe(false);
  });
});

describe('claim condition: oneOf', () => {
  it('holds when the claim is any one of the values', async () => {
    const when = '{ claim: { name: plan, oneOf: [gold, platinum] } }';
    expect(await holds(when, { plan: 'gold' })).toBe(true);
    expect(await holds(when, { plan: 'platinum' })).toBe(true);
    expect(await apply(when, { plan: 'silver' })).toEqual({ outcome: 'condition_failed', failed: 'claim plan ("silver") does not satisfy: is one of [gold, platinum]' });
  });

  it('mixes numbers and strings', async () => {
    const when = '{ claim: { name: tier, oneOf: [1, "2"] } }';
    expect(await holds(when, { tier: '1' })).toBe(true);
    expect(await holds(when, { tier: 2 })).toBe(true);
    expect(await holds(when, { tier: 3 })).toBe(false);
  });
});

describe('claim condition: present', () => {
  it('present: true holds for any value, and not for a missing or null claim', async () => {
    const when = '{ claim: { name: tenant, present: true } }';
    for (const tenant of ['acme', '', 0, false, ['x']]) expect(await holds(when, { tenant }), JSON.stringify(tenant)).toBe(true);
    expect(await holds(when, {})).toBe(false);
    expect(await holds(when, { tenant: null })).toBe(false);
  });

  it('present: false holds only when the claim is missing', async () => {
    const when = '{ claim: { name: act, present: false } }';
    expect(await holds(when, {})).toBe(true);
    expect(await apply(when, { act: 'x' })).toEqual({ outcome: 'condition_failed', failed: 'claim act ("x") does not satisfy: is absent' });
  });

  it('present: true holds for a claim whose value is an object', async () => {
    // e.g. `act` (RFC 8693 actor) or an `org` object: the claim is there.
    const when = '{ claim: { name: org, present: true } }';
    expect(await holds(when, { org: { id: 'acme' } })).toBe(true);
    expect(await holds(when, { org: [{ id: 'acme' }] })).toBe(true);
  });
});

describe('claim condition: matches', () => {
  it('matches the whole value with an RE2 expression', async () => {
    const when = '{ claim: { name: email, matches: "[a-z]+@example\\\\.com" } }';
    expect(await holds(when, { email: 'alice@example.com' })).toBe(true);
    expect(await holds(when, { email: 'alice@example.com.evil.test' })).toBe(false);
    expect(await holds(when, { email: 'x-alice@example.com' })).toBe(false);
    expect(await holds(when, { email: 'alice@exampleXcom' })).toBe(false);
    expect(await apply(when, { email: 'bob@other.test' })).toEqual({
      outcome: 'condition_failed',
      failed: 'claim email ("bob@other.test") does not satisfy: matches /[a-z]+@example\\.com/',
    });
  });

  it('matches numbers by their text', async () => {
    expect(await holds('{ claim: { name: uid, matches: "10[0-9]" } }', { uid: 105 })).toBe(true);
    expect(await holds('{ claim: { name: uid, matches: "10[0-9]" } }', { uid: 1050 })).toBe(false);
  });
});

describe('claim condition: nested paths', () => {
  it('follows a dotted path into nested objects', async () => {
    const when = '{ claim: { name: org.team.id, equals: payments } }';
    expect(await holds(when, { org: { team: { id: 'payments' } } })).toBe(true);
    expect(await holds(when, { org: { team: { id: 'search' } } })).toBe(false);
    expect(await holds(when, { org: { team: 'payments' } })).toBe(false);
    expect(await holds(when, { org: null })).toBe(false);
  });

  it('does not read a flat claim whose name contains the dots', async () => {
    expect(await holds('{ claim: { name: org.id, equals: acme } }', { 'org.id': 'acme' })).toBe(false);
  });

  it('does not step into arrays along the path', async () => {
    expect(await holds('{ claim: { name: orgs.id, equals: acme } }', { orgs: [{ id: 'acme' }] })).toBe(false);
  });

  it('records only the top-level claim name for replay', () => {
    expect(policyWhen('{ claim: { name: org.team.id, equals: x } }').recorded.claims).toEqual(['org']);
  });
});

describe('claim condition: array claims', () => {
  it('holds when any element satisfies the matcher', async () => {
    expect(await holds('{ claim: { name: groups, equals: ops } }', { groups: ['eng', 'ops'] })).toBe(true);
    expect(await holds('{ claim: { name: groups, oneOf: [sre, ops] } }', { groups: ['eng', 'ops'] })).toBe(true);
    expect(await holds('{ claim: { name: groups, matches: "team-.*" } }', { groups: ['eng', 'team-7'] })).toBe(true);
    expect(await holds('{ claim: { name: groups, equals: sre } }', { groups: ['eng', 'ops'] })).toBe(false);
  });

  it('compares numeric elements as text and skips object elements', async () => {
    expect(await holds('{ claim: { name: ids, equals: 7 } }', { ids: [1, '7'] })).toBe(true);
    expect(await holds('{ claim: { name: ids, equals: 7 } }', { ids: [{ id: 7 }] })).toBe(false);
  });

  it('does not match a joined array', async () => {
    expect(await holds('{ claim: { name: groups, equals: "eng,ops" } }', { groups: ['eng', 'ops'] })).toBe(false);
  });

  it('treats an empty array as having no value', async () => {
    expect(await holds('{ claim: { name: groups, equals: ops } }', { groups: [] })).toBe(false);
  });
});

describe('claim condition: callers and load errors', () => {
  it('never holds for an anonymous caller (in a deny rule, which anonymous callers reach)', async () => {
    const rule = policyWhen('{ claim: { name: tenant, present: true } }', 'deny').rules[0]!;
    expect((await applyRule(rule, { ...callerContext({ identity: ANONYMOUS }), params: {} })).trace).toEqual({
      outcome: 'condition_failed',
      failed: 'claim tenant (absent) does not satisfy: is present',
    });
  });

  it('rejects a claim condition with two matchers, pointing at the second', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ claim: { name: t, equals: a, oneOf: [b] } }] }\n')).toEqual([
      'policy.yaml:3:74 [invalid_value] rules[0].when[0].claim.oneOf: use exactly one of equals, oneOf, present, matches',
    ]);
  });

  it('rejects a claim condition without a matcher', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ claim: { name: t } }] }\n')[0]).toContain(
      '[invalid_value] rules[0].when[0].claim',
    );
  });

  it('rejects an empty segment in a dotted claim path', () => {
    for (const name of ['org..id', '.org', 'org.']) {
      expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, when: [{ claim: { name: "${name}", present: true } }] }\n`), name).toEqual([
        expect.stringContaining('[invalid_value] rules[0].when[0].claim.name: a claim name or dotted path'),
      ]);
    }
  });
});
