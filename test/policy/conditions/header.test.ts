// `header:` conditions on request headers: names are case-insensitive, values compare exactly;
// keycard's own x-keycard-* headers can never be tested, since clients cannot send them through.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, compileYaml, holdsWhen, loadErrors, policyWhen, requestWith } from '../../helpers/policy.js';

const apply = (when: string, headers: Record<string, string>) => applyWhen(when, { request: requestWith(headers, '127.0.0.1') });
const holds = (when: string, headers: Record<string, string>) => holdsWhen(when, { request: requestWith(headers, '127.0.0.1') });

describe('header condition', () => {
  it('equals: holds for the exact value, and explains an absent header', async () => {
    const when = '{ header: { name: x-tenant, equals: acme } }';
    expect(await apply(when, { 'x-tenant': 'acme' })).toEqual({ outcome: 'applied' });
    expect(await holds(when, { 'x-tenant': 'ACME' })).toBe(false);
    expect(await holds(when, { 'x-tenant': 'acme,beta' })).toBe(false);
    expect(await apply(when, {})).toEqual({ outcome: 'condition_failed', failed: 'header x-tenant is absent does not satisfy: equals "acme"' });
    expect(await apply(when, { 'x-tenant': 'beta' })).toEqual({ outcome: 'condition_failed', failed: 'header x-tenant ("beta") does not satisfy: equals "acme"' });
  });

  it('matches the header name case-insensitively', async () => {
    // Request header names reach conditions lower-cased; the policy may write any case.
    const policy = policyWhen('{ header: { name: X-Tenant, equals: acme } }');
    expect(policy.rules[0]!.conditions[0]!.description).toBe('header x-tenant equals "acme"');
    expect(policy.recorded.headers).toEqual(['x-tenant']);
    expect(await holds('{ header: { name: X-TENANT, equals: acme } }', { 'x-tenant': 'acme' })).toBe(true);
  });

  it('oneOf: holds for any listed value', async () => {
    const when = '{ header: { name: x-env, oneOf: [staging, prod] } }';
    expect(await holds(when, { 'x-env': 'prod' })).toBe(true);
    expect(await holds(when, { 'x-env': 'staging' })).toBe(true);
    expect(await holds(when, { 'x-env': 'dev' })).toBe(false);
    expect(await holds(when, {})).toBe(false);
  });

  it('present: true and false', async () => {
    expect(await holds('{ header: { name: x-debug, present: true } }', { 'x-debug': '' })).toBe(true);
    expect(await holds('{ header: { name: x-debug, present: true } }', {})).toBe(false);
    expect(await holds('{ header: { name: x-debug, present: false } }', {})).toBe(true);
    expect(await apply('{ header: { name: x-debug, present: false } }', { 'x-debug': '1' })).toEqual({
      outcome: 'condition_failed',
      failed: 'header x-debug ("1") does not satisfy: is absent',
    });
  });

  it('matches: anchored RE2 match of the whole value', async () => {
    const when = '{ header: { name: x-tenant, matches: "acme-[a-z]+" } }';
    expect(await holds(when, { 'x-tenant': 'acme-eu' })).toBe(true);
    expect(await holds(when, { 'x-tenant': 'acme-eu1' })).toBe(false);
    expect(await holds(when, { 'x-tenant': 'xacme-eu' })).toBe(false);
    expect(await holds(when, {})).toBe(false);
  });

  it('needs no caller: an anonymous rule may test a header', async () => {
    const policy = compileYaml('service: s\nrules:\n  - { id: probe, effect: allow, anonymous: true, when: [{ header: { name: x-probe, equals: "1" } }] }\n');
    const request = (headers: Record<string, string>) => callerContext({ request: requestWith(headers, undefined) });
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, request({ 'x-probe': '1' }))).toMatchObject({ allowed: true, rule: { id: 'probe' } });
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, request({}))).toMatchObject({ allowed: false, reason: 'authentication_required' });
  });

  it('rejects x-keycard-* headers at load, in any case', () => {
    for (const name of ['x-keycard-roles', 'X-Keycard-Subject', 'X-KEYCARD-anything']) {
      expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, when: [{ header: { name: ${name}, present: true } }] }\n`), name).toEqual([
        "policy.yaml:3:54 [invalid_value] rules[0].when[0].header.name: x-keycard-* headers are keycard's own and are removed from client requests",
      ]);
    }
  });

  it('accepts a header that merely contains "keycard"', async () => {
    expect(await holds('{ header: { name: x-my-keycard-id, equals: "1" } }', { 'x-my-keycard-id': '1' })).toBe(true);
  });

  it('rejects a header name that is not an HTTP token', () => {
    const errors = loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ header: { name: "x tenant", present: true } }] }\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^policy\.yaml:3:54 \[invalid_value\] rules\[0\]\.when\[0\]\.header\.name: /);
  });
});
