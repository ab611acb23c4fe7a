// The permissions header: with `forward.permissionsHeader: true` an allowed request carries
// x-keycard-permissions, the sorted, deduplicated `permission` names (the rule id by default) of
// every allow rule whose conditions hold for this caller, whatever path or method it matches.
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/authn/identity.js';
import type { Decision } from '../../src/pipeline/types.js';
import { permissionsFor } from '../../src/policy/permissions.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { planResponse } from '../../src/protocol/decision-response.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { callerContext, compileYaml, user } from '../helpers/policy.js';

const RULES = `
rules:
  - { id: health, effect: allow, match: { paths: [/healthz] }, anonymous: true }
  - { id: read, effect: allow, permission: orders.read, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: [customer, support] }] }
  - { id: support-read, effect: allow, permission: orders.read, match: { paths: ["/tickets/**"] }, when: [{ role: support }] }
  - { id: refund, effect: allow, permission: orders.refund, match: { methods: [POST], paths: ["/orders/{id}/refund"] }, when: [{ role: finance }] }
  - { id: export, effect: allow, match: { paths: [/export] }, when: [{ role: support }, { scope: orders:export }] }
  - { id: admin, effect: allow, permission: orders.admin, match: { paths: ["/admin/**"] }, when: [{ role: support }, { mfa: true }] }
  - { id: no-legacy, effect: deny, match: { paths: ["/v1/**"] } }
`;

const POLICY_TEXT = `service: orders\nforward: { permissionsHeader: true }\n${RULES}`;
const STORE = [
  { subject: 'alice', role: 'customer' },
  { subject: 'sam', role: 'support' },
  { subject: 'fiona', role: 'finance' },
  { subject: 'fiona', role: 'customer' },
];

async function decide(policyText: string, identity: Identity, path: string, method = 'GET', headers = new Map<string, string>()): Promise<Decision> {
  const policy = compileYaml(policyText);
  const pipeline = pipelineWith({ policies: () => new PolicySet([policy], 'v1'), authenticator: fixedIdentity(identity), store: new MemoryStore(STORE) });
  return pipeline.decide(authzInput('orders', path, { method, headers }));
}

function permissionsHeader(decision: Decision, headers = new Map<string, string>()): string | undefined {
  return planResponse(decision, headers).headers.find(([name]) => name === 'x-keycard-permissions')?.[1];
}

describe('permissionsFor', () => {
  const policy = compileYaml(POLICY_TEXT);
  const held = (identity: Identity, roles: string[]) => permissionsFor(policy, callerContext({ identity, roles: new Set(roles) }), {});

  it('lists the permissions of allow rules whose conditions hold, sorted, each once', async () => {
    // orders.read is granted by two rules; "health" has no permission name, so its id is used.
    expect(await held(user('sam', { amr: ['otp'], scope: 'orders:export' }), ['support'])).toEqual(['export', 'health', 'orders.admin', 'orders.read']);
  });

  it('leaves out rules that fail on a plain condition, a scope or a step-up', async () => {
    expect(await held(user('sam', { amr: ['pwd'] }), ['support'])).toEqual(['health', 'orders.read']);
    expect(await held(user('fiona'), ['finance', 'customer'])).toEqual(['health', 'orders.read', 'orders.refund']);
    expect(await held(user('nobody'), [])).toEqual(['health']);
  });

  it('never lists deny rules', async () => {
    const list = await held(user('sam', { amr: ['otp'], scope: 'orders:export' }), ['support']);
    expect(list).not.toContain('no-legacy');
  });
});

describe('x-keycard-permissions on the wire', () => {
  it('is sent on an allow, comma-separated', async () => {
    const decision = await decide(POLICY_TEXT, user('fiona'), '/orders/42');
    expect(decision).toMatchObject({ allowed: true, ruleId: 'read', permissions: ['health', 'orders.read', 'orders.refund'] });
    expect(permissionsHeader(decision)).toBe('health,orders.read,orders.refund');
  });

  it('reflects the caller, not the request: the same path gives different callers different lists', async () => {
    expect(permissionsHeader(await decide(POLICY_TEXT, user('alice'), '/orders/42'))).toBe('health,orders.read');
    expect(permissionsHeader(await decide(POLICY_TEXT, user('sam', { amr: ['otp'] }), '/orders/42'))).toBe('health,orders.admin,orders.read');
  });

  it('is sent for an anonymous allow too', async () => {
    const decision = await decide(POLICY_TEXT, { authenticated: false }, '/healthz');
    expect(permissionsHeader(decision)).toBe('health');
  });

  it('is not sent on a deny', async () => {
    const decision = await decide(POLICY_TEXT, user('alice'), '/orders/42/refund', 'POST');
    expect(decision).toMatchObject({ allowed: false, reason: 'no_matching_rule' });
    expect(decision.permissions).toBeUndefined();
    expect(permissionsHeader(decision)).toBeUndefined();
  });

  it('is not sent unless the policy asks for it, and a client copy is then removed', async () => {
    const decision = await decide(`service: orders\n${RULES}`, user('fiona'), '/orders/42');
    expect(decision.permissions).toBeUndefined();
    const spoofed = new Map([['x-keycard-permissions', 'orders.admin']]);
    const plan = planResponse(decision, spoofed);
    expect(plan.headers.map(([name]) => name)).not.toContain('x-keycard-permissions');
    expect(plan.headersToRemove).toEqual(['x-keycard-permissions']);
  });

  it('overwrites a client copy when the policy sends it', async () => {
    const spoofed = new Map([['x-keycard-permissions', 'orders.admin']]);
    const decision = await decide(POLICY_TEXT, user('alice'), '/orders/42', 'GET', spoofed);
    const plan = planResponse(decision, spoofed);
    expect(plan.headers.filter(([name]) => name === 'x-keycard-permissions')).toEqual([['x-keycard-permissions', 'health,orders.read']]);
    expect(plan.headersToRemove).toEqual([]);
  });
});

describe('permission load errors', () => {
  it('rejects a permission on a deny rule', () => {
    expect(() => compileYaml('service: s\nrules:\n  - { id: d, effect: deny, permission: p }\n')).toThrow(
      'policy.yaml:3:40 [invalid_value] rules[0].permission: only allow rules grant a permission',
    );
  });

  it('rejects a permission name with spaces', () => {
    expect(() => compileYaml('service: s\nrules:\n  - { id: a, effect: allow, permission: "orders read" }\n')).toThrow(
      /rules\[0\]\.permission: a permission may use letters, digits/,
    );
  });
});
