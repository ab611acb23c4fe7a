import { describe, expect, it } from 'vitest';
import { callerClasses, callerLabel, rolesForService } from '../../../src/registry/analysis/caller-class.js';
import { operationCoverage } from '../../../src/registry/analysis/operation-coverage.js';
import { decide } from '../../../src/registry/analysis/verdict.js';
import { verdictText } from '../../../src/registry/analysis/verdict-text.js';
import { compileYaml } from '../../helpers/policy.js';
import { operation } from './api.js';

const POLICY = compileYaml(`
service: orders
rules:
  - id: health
    effect: allow
    match: { methods: [GET], paths: [/healthz] }
    anonymous: true
  - id: read-own
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ scope: orders:read }]
  - id: support-read
    effect: allow
    match: { methods: [GET], paths: ["/orders/**"] }
    when: [{ role: [support, admin] }]
  - id: refunds
    effect: allow
    match: { methods: [POST], paths: ["/orders/{id}/refund"] }
    when: [{ role: finance }, { mfa: true }]
  - id: legacy-off
    effect: deny
    match: { paths: ["/v1/**"] }
  - id: no-debug
    effect: deny
    match: { paths: ["/orders/**"] }
    when: [{ header: { name: x-debug, present: true } }]
  - id: interns-no-delete
    effect: deny
    match: { methods: [DELETE] }
    when: [{ role: intern }]
    dryRun: true
  - id: staff-delete
    effect: allow
    match: { methods: [DELETE], paths: ["/orders/{id}"] }
    when: [{ role: [support, intern] }]
  - id: v1-all
    effect: allow
    match: { paths: ["/v1/**"] }
    anonymous: true
`);

const CALLERS = callerClasses(['finance', 'intern', 'support']);

async function verdicts(line: string): Promise<Record<string, string>> {
  const coverage = await operationCoverage(POLICY, operation(line), CALLERS);
  return Object.fromEntries(coverage.verdicts.map((verdict) => [callerLabel(verdict.caller), verdictText(verdict)]));
}

describe('symbolic verdicts per caller class', () => {
  it('an anonymous rule allows every caller unconditionally', async () => {
    expect(await verdicts('GET /healthz')).toEqual({
      anonymous: 'allow [health]',
      authenticated: 'allow [health]',
      'role:finance': 'allow [health]',
      'role:intern': 'allow [health]',
      'role:support': 'allow [health]',
    });
  });

  it('leaves scopes and headers as requirements, settles roles, and stops at the first unconditional allow', async () => {
    expect(await verdicts('GET /orders/{id}')).toEqual({
      anonymous: 'deny',
      authenticated: 'allow if scope orders:read [read-own] unless header x-debug is present [no-debug]',
      'role:finance': 'allow if scope orders:read [read-own] unless header x-debug is present [no-debug]',
      'role:intern': 'allow if scope orders:read [read-own] unless header x-debug is present [no-debug]',
      // support-read decides for support whatever the scope, so read-own is not named.
      'role:support': 'allow [support-read] unless header x-debug is present [no-debug]',
    });
  });

  it('an unconditional enforced deny wins over an anonymous allow, wherever it stands', async () => {
    expect(await verdicts('GET /v1/orders')).toMatchObject({ anonymous: 'deny [legacy-off]', 'role:support': 'deny [legacy-off]' });
  });

  it('step-up conditions are requirements; a role the class lacks removes the rule', async () => {
    expect(await verdicts('POST /orders/{id}/refund')).toMatchObject({
      anonymous: 'deny',
      authenticated: 'deny',
      'role:finance': 'allow if multi-factor authentication [refunds] unless header x-debug is present [no-debug]',
    });
  });

  it('a dry-run deny rule is reported beside the grant it does not stop', async () => {
    expect(await verdicts('DELETE /orders/{id}')).toMatchObject({
      'role:intern': 'allow [staff-delete] unless header x-debug is present [no-debug] (dry-run deny [interns-no-delete])',
      'role:support': 'allow [staff-delete] unless header x-debug is present [no-debug]',
      authenticated: 'deny',
    });
  });
});

describe('decide() agrees with enforcement', () => {
  it('follows deny-wins then first-allow over the requirements', async () => {
    const coverage = await operationCoverage(POLICY, operation('GET /orders/{id}'), CALLERS);
    const support = coverage.verdicts.find((verdict) => callerLabel(verdict.caller) === 'role:support')!;
    expect(decide(support, () => false)).toMatchObject({ allowed: true, rule: { id: 'support-read' } });
    expect(decide(support, (requirement) => requirement === 'scope orders:read')).toMatchObject({ allowed: true, rule: { id: 'read-own' } });
    expect(decide(support, (requirement) => requirement.startsWith('header'))).toMatchObject({ allowed: false, rule: { id: 'no-debug' } });
    const anonymous = coverage.verdicts[0]!;
    expect(decide(anonymous, () => false)).toEqual({ allowed: false, rule: undefined });
    expect(decide(anonymous, () => true)).toMatchObject({ allowed: false, rule: { id: 'no-debug' } });
  });
});

describe('roles for a service', () => {
  it('takes global bindings and the service own, not other services', () => {
    expect(
      rolesForService(
        [
          { subject: 'a', role: 'support' },
          { subject: 'b', role: 'finance', service: 'orders' },
          { subject: 'c', role: 'auditor', service: 'billing' },
          { subject: 'd', role: 'support', service: 'orders' },
        ],
        'orders',
      ),
    ).toEqual(['finance', 'support']);
  });
});
