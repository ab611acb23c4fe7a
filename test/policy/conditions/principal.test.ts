// `principal:` conditions: the connection's mTLS peer (source.principal) is one of the patterns,
// exact or a "/*" prefix, whatever credential authenticated the caller.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Identity } from '../../../src/authn/identity.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, compileYaml, loadErrors, requestWith, user } from '../../helpers/policy.js';

const CHECKOUT = 'spiffe://cluster.local/ns/shop/sa/checkout';
const from = (peerPrincipal: string | undefined) => ({ ...requestWith({}, '10.0.0.1'), peerPrincipal });
const apply = (when: string, peerPrincipal: string | undefined) => applyWhen(when, { request: from(peerPrincipal) });
const holds = async (when: string, peerPrincipal: string | undefined) => (await apply(when, peerPrincipal)).outcome === 'applied';

describe('principal condition', () => {
  it('exact: holds for that principal only', async () => {
    const when = `{ principal: "${CHECKOUT}" }`;
    expect(await holds(when, CHECKOUT)).toBe(true);
    for (const other of [`${CHECKOUT}2`, `${CHECKOUT}/x`, 'spiffe://cluster.local/ns/shop/sa/Checkout', 'spiffe://other.local/ns/shop/sa/checkout']) {
      expect(await holds(when, other), other).toBe(false);
    }
  });

  it('a list: any of them', async () => {
    const when = `{ principal: ["${CHECKOUT}", "spiffe://cluster.local/ns/shop/sa/cart"] }`;
    expect(await holds(when, 'spiffe://cluster.local/ns/shop/sa/cart')).toBe(true);
    expect(await holds(when, CHECKOUT)).toBe(true);
    expect(await holds(when, 'spiffe://cluster.local/ns/shop/sa/web')).toBe(false);
  });

  it('"/*": any path below the prefix, not the prefix itself nor a sibling that shares its text', async () => {
    const when = '{ principal: "spiffe://cluster.local/ns/shop/*" }';
    expect(await holds(when, CHECKOUT)).toBe(true);
    expect(await holds(when, 'spiffe://cluster.local/ns/shop/x')).toBe(true);
    expect(await holds(when, 'spiffe://cluster.local/ns/shop')).toBe(false);
    expect(await holds(when, 'spiffe://cluster.local/ns/shopping/sa/x')).toBe(false);
    expect(await holds(when, 'spiffe://cluster.local/ns/other/sa/x')).toBe(false);
    expect(await holds('{ principal: "spiffe://cluster.local/*" }', CHECKOUT)).toBe(true);
    expect(await holds('{ principal: "spiffe://cluster.local/*" }', 'spiffe://cluster.locals/ns/x')).toBe(false);
  });

  it('never matches a malformed peer principal, even below a "/*" prefix', async () => {
    expect(await apply('{ principal: "spiffe://cluster.local/ns/shop/*" }', 'spiffe://cluster.local/ns/shop/../admin/sa/x')).toEqual({
      outcome: 'condition_failed',
      failed: 'peer principal "spiffe://cluster.local/ns/shop/../admin/sa/x" is malformed: the SPIFFE ID path has a "." or ".." segment',
    });
  });

  it('fails without an mTLS peer, and explains both failures', async () => {
    expect(await apply(`{ principal: "${CHECKOUT}" }`, undefined)).toEqual({
      outcome: 'condition_failed',
      failed: `no peer principal (not an mTLS connection), not in [${CHECKOUT}]`,
    });
    expect(await apply(`{ principal: "${CHECKOUT}" }`, 'spiffe://cluster.local/ns/shop/sa/web')).toEqual({
      outcome: 'condition_failed',
      failed: `peer principal spiffe://cluster.local/ns/shop/sa/web is not in [${CHECKOUT}]`,
    });
  });

  it('checks the connection whatever the caller is: a user via the checkout service', async () => {
    const policy = compileYaml(`service: s
rules:
  - { id: via-checkout, effect: allow, when: [{ principal: "spiffe://cluster.local/ns/shop/sa/checkout" }, { role: customer }] }
  - { id: probes, effect: allow, anonymous: true, match: { paths: [/healthz] }, when: [{ principal: "spiffe://cluster.local/ns/infra/*" }] }
`);
    const decide = (path: string, identity: Identity = user('alice'), peerPrincipal?: string, roles = ['customer']) =>
      evaluatePolicy(policy, { method: 'GET', segments: path.split('/').filter(Boolean) }, callerContext({ identity, roles: new Set(roles), request: { ...from(peerPrincipal), path } }));
    expect(await decide('/orders', user('alice'), CHECKOUT)).toMatchObject({ allowed: true, rule: { id: 'via-checkout' } });
    expect(await decide('/orders', user('alice'), 'spiffe://cluster.local/ns/shop/sa/web')).toMatchObject({ allowed: false });
    expect(await decide('/orders', user('alice'), undefined)).toMatchObject({ allowed: false });
    expect(await decide('/healthz', ANONYMOUS, 'spiffe://cluster.local/ns/infra/sa/prober', [])).toMatchObject({ allowed: true, rule: { id: 'probes' } });
    expect(await decide('/healthz', ANONYMOUS, undefined, [])).toMatchObject({ allowed: false });
  });

  it.each([
    ['"*"', '"*" may only be the last path segment ("…/*")'],
    ['"spiffe://cluster.local/ns/*/sa/checkout"', '"*" may only be the last path segment ("…/*")'],
    ['"spiffe://cluster.local/ns/shop*"', '"*" may only be the last path segment ("…/*")'],
    ['"/*"', 'a "/*" pattern needs a prefix, e.g. spiffe://cluster.local/ns/shop/*'],
    ['"spiffe://cluster.local"', 'is not a valid principal: the SPIFFE ID has no path below the trust domain'],
    ['"spiffe://cluster.local/ns/../x"', 'is not a valid principal: the SPIFFE ID path has a "." or ".." segment'],
    ['"spiffe://Cluster.local/*"', 'is not a valid principal: the SPIFFE trust domain "Cluster.local" may use only a-z, 0-9, ".", "-" and "_"'],
    ['"spiffe://cluster.local/ns?x=1"', 'is not a valid principal: the SPIFFE ID path segment "ns?x=1" is empty or uses characters other than letters, digits, ".", "-" and "_"'],
    ['"a\\tb"', 'is not a valid principal: the principal contains control characters'],
  ])('rejects the pattern %s at load', (pattern, message) => {
    const errors = loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, when: [{ principal: [${CHECKOUT}, ${pattern}] }] }\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^policy\.yaml:3:\d+ \[invalid_value\] rules\[0\]\.when\[0\]\.principal\[1\]: /);
    expect(errors[0]).toContain(message);
  });

  it('rejects an empty pattern and an empty list', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ principal: "" }] }\n')).toHaveLength(1);
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ principal: [] }] }\n')).toHaveLength(1);
  });
});
