// Dry-run: a `mode: dry-run` service decides and records, but allows every would-be deny except
// malformed requests; a `dryRun: true` deny rule is recorded, not enforced, while other deny
// rules still deny. Checked through the in-process Pipeline with real tokens, the Metrics
// registry and the audit log.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Authenticator } from '../../src/authn/authenticator.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { decisionLabel, type AuthzInput, type Decision } from '../../src/pipeline/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { decisionToCheckResponse } from '../../src/protocol/check-response.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { waitForAuditLine } from '../helpers/audit.js';
import { makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { authzInput, pipelineWith, testAuthenticator } from '../helpers/pipeline.js';
import { compileYaml } from '../helpers/policy.js';
import { Workspace } from '../helpers/workspace.js';

const SHADOW = `
service: shadow
mode: dry-run
rules:
  - { id: health, effect: allow, match: { paths: [/healthz] }, anonymous: true }
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/items/{id}"] }, when: [{ role: reader }] }
  - { id: no-admin, effect: deny, match: { paths: ["/admin/**"] } }
  - { id: secure, effect: allow, match: { paths: [/secure] }, when: [{ mfa: true }] }
`;

const ORDERS = `
service: orders
rules:
  - { id: read, effect: allow, match: { methods: [GET] }, when: [{ role: reader }] }
  - { id: trial-block, effect: deny, dryRun: true, match: { paths: ["/beta/**", "/both/**"] } }
  - { id: hard-block, effect: deny, match: { paths: ["/legacy/**", "/both/**"] } }
`;

let workspace: Workspace;
let key: TestKey;
let authenticator: Authenticator;
let audit: AuditLog;
let auditFile: string;
let metrics: Metrics;
const policies = new PolicySet([compileYaml(SHADOW, ['test-idp'], 'shadow.yaml'), compileYaml(ORDERS, ['test-idp'], 'orders.yaml')], 'v1');

beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace();
  authenticator = await testAuthenticator(workspace, key);
  auditFile = workspace.path('audit.log');
  audit = new AuditLog({ output: auditFile });
});

afterAll(() => {
  audit?.flush();
  workspace?.remove();
});

beforeEach(() => {
  metrics = new Metrics((service) => policies.has(service));
});

function pipeline(): Pipeline {
  return pipelineWith({
    policies: () => policies,
    authenticator,
    store: new MemoryStore([{ subject: 'rita', role: 'reader' }]),
    limits: { maxHeaders: 20, maxHeaderBytes: 10_000 },
    onDecision: (decision, input) => {
      metrics.recordDecision(decision);
      audit.decision(decision, input);
    },
  });
}

async function input(service: string, path: string, subject?: string, extra: Partial<AuthzInput> = {}): Promise<AuthzInput> {
  const headers = new Map<string, string>();
  if (subject) headers.set('authorization', `Bearer ${await signToken(key, { sub: subject, claims: { amr: ['pwd'] } })}`);
  return authzInput(service, path, { headers, source: { address: '10.0.0.1' }, ...extra });
}

async function decide(service: string, path: string, subject?: string, extra: Partial<AuthzInput> = {}): Promise<Decision> {
  return pipeline().decide(await input(service, path, subject, extra));
}

/** Counter values by their labels, e.g. `service=shadow,decision=dry_run_deny,reason=no_matching_rule`. */
async function counter(name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const out: Record<string, number> = {};
  for (const { labels, value } of (await metric.get()).values) {
    out[Object.entries(labels).map(([label, v]) => `${label}=${String(v)}`).join(',')] = value;
  }
  return out;
}

/** The audit line of one decision; waits for the asynchronous sink to open and write it. */
const auditLine = (decisionId: string) => waitForAuditLine(auditFile, decisionId, { timeoutMs: 10_000, intervalMs: 25, flush: () => audit.flush() });

describe('mode: dry-run', () => {
  it('allows a would-be no_matching_rule deny and records what would have happened', async () => {
    const decision = await decide('shadow', '/items/7', 'bob');
    expect(decision).toMatchObject({ allowed: true, status: 200, reason: 'allowed', service: 'shadow' });
    expect(decision.dryRun).toEqual({ reason: 'no_matching_rule' });
    expect(decisionLabel(decision)).toBe('dry_run_deny');
    expect(decision.trace).toEqual([{ id: 'read', effect: 'allow', outcome: 'condition_failed', failed: 'bob lacks role reader' }]);

    expect(await counter('keycard_decisions_total')).toEqual({ 'service=shadow,decision=dry_run_deny,reason=no_matching_rule': 1 });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({ 'service=shadow,rule=_none,reason=no_matching_rule': 1 });

    expect(await auditLine(decision.id)).toMatchObject({
      service: 'shadow',
      subject: 'bob',
      decision: 'dry_run_deny',
      status: 200,
      reason: 'allowed',
      dry_run: { reason: 'no_matching_rule' },
    });
  });

  it('allows a would-be explicit deny and names the deny rule', async () => {
    const decision = await decide('shadow', '/admin/users', 'rita');
    expect(decision).toMatchObject({ allowed: true, status: 200, dryRun: { reason: 'explicit_deny', ruleId: 'no-admin' } });
    expect(await counter('keycard_decisions_total')).toEqual({ 'service=shadow,decision=dry_run_deny,reason=explicit_deny': 1 });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({ 'service=shadow,rule=no-admin,reason=explicit_deny': 1 });
    expect(await auditLine(decision.id)).toMatchObject({ decision: 'dry_run_deny', dry_run: { reason: 'explicit_deny', ruleId: 'no-admin' } });
  });

  it('allows a would-be step-up without a challenge, and marks the response as dry_run_deny', async () => {
    const decision = await decide('shadow', '/secure', 'rita');
    expect(decision).toMatchObject({ allowed: true, dryRun: { reason: 'insufficient_user_authentication' } });
    expect(decision.challenge).toBeUndefined();
    const response = decisionToCheckResponse(decision, new Map());
    expect(response.status?.code).toBe(0);
    expect(response.denied_response).toBeUndefined();
    expect(response.ok_response?.headers?.map((option) => option.header?.key)).toContain('x-keycard-decision-id');
    const fields = (response.dynamic_metadata as unknown as { fields: Record<string, { string_value: string }> }).fields;
    expect(fields.decision?.string_value).toBe('dry_run_deny');
    expect(fields.dry_run_deny?.string_value).toBe('insufficient_user_authentication');
  });

  it('allows an anonymous caller that would have been asked to authenticate', async () => {
    const decision = await decide('shadow', '/items/7');
    expect(decision).toMatchObject({ allowed: true, dryRun: { reason: 'authentication_required' }, identity: { authenticated: false } });
  });

  it('counts a request allowed anyway as a plain allow', async () => {
    const decision = await decide('shadow', '/items/7', 'rita');
    expect(decision).toMatchObject({ allowed: true, ruleId: 'read' });
    expect(decision.dryRun).toBeUndefined();
    expect(decisionLabel(decision)).toBe('allow');
    expect(await counter('keycard_decisions_total')).toEqual({ 'service=shadow,decision=allow,reason=allowed': 1 });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({});
  });

  it('still denies a path it cannot accept (400 invalid_path)', async () => {
    const decision = await decide('shadow', '/items/..%2f..%2fadmin', 'rita');
    expect(decision).toMatchObject({ allowed: false, status: 400, reason: 'invalid_path' });
    expect(decision.dryRun).toBeUndefined();
    expect(await counter('keycard_decisions_total')).toEqual({ 'service=shadow,decision=deny,reason=invalid_path': 1 });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({});
    expect(await auditLine(decision.id)).toMatchObject({ decision: 'deny', status: 400, reason: 'invalid_path' });
  });

  it('allows and records token errors', async () => {
    const malformed = await decide('shadow', '/items/7', undefined, { headers: new Map([['authorization', 'Bearer x.y.z']]) });
    expect(malformed).toMatchObject({ allowed: true, status: 200, dryRun: { reason: 'malformed_token' }, identity: { authenticated: false } });

    const expiredToken = await signToken(key, { sub: 'rita', expiresIn: -3600 });
    const expired = await decide('shadow', '/items/7', undefined, { headers: new Map([['authorization', `Bearer ${expiredToken}`]]) });
    expect(expired).toMatchObject({ allowed: true, dryRun: { reason: 'token_expired' } });

    expect(await counter('keycard_decisions_total')).toEqual({
      'service=shadow,decision=dry_run_deny,reason=malformed_token': 1,
      'service=shadow,decision=dry_run_deny,reason=token_expired': 1,
    });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({
      'service=shadow,rule=_none,reason=malformed_token': 1,
      'service=shadow,rule=_none,reason=token_expired': 1,
    });
    const line = await auditLine(malformed.id);
    expect(line).toMatchObject({ decision: 'dry_run_deny', status: 200, dry_run: { reason: 'malformed_token' } });
    expect(line.subject).toBeUndefined();
  });

  it('does not extend to requests no policy serves', async () => {
    const decision = await decide('nope', '/items/7', 'rita');
    expect(decision).toMatchObject({ allowed: false, status: 403, reason: 'unknown_service' });
    expect(decision.dryRun).toBeUndefined();
  });
});

describe('dryRun: true deny rules', () => {
  it('records a dry-run deny rule that applies, without enforcing it', async () => {
    const decision = await decide('orders', '/beta/feature', 'rita');
    expect(decision).toMatchObject({ allowed: true, status: 200, reason: 'allowed', dryRun: { reason: 'explicit_deny', ruleId: 'trial-block' } });
    expect(decision.trace).toEqual([
      { id: 'read', effect: 'allow', outcome: 'applied' },
      { id: 'trial-block', effect: 'deny', outcome: 'applied', dryRun: true },
    ]);
    expect(await counter('keycard_decisions_total')).toEqual({ 'service=orders,decision=dry_run_deny,reason=explicit_deny': 1 });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({ 'service=orders,rule=trial-block,reason=explicit_deny': 1 });
    expect(await auditLine(decision.id)).toMatchObject({ decision: 'dry_run_deny', status: 200, dry_run: { reason: 'explicit_deny', ruleId: 'trial-block' } });
  });

  it('keeps enforcing other deny rules, also when a dry-run rule matched first', async () => {
    const legacy = await decide('orders', '/legacy/x', 'rita');
    expect(legacy).toMatchObject({ allowed: false, status: 403, reason: 'explicit_deny', ruleId: 'hard-block' });
    expect(legacy.dryRun).toBeUndefined();
    const both = await decide('orders', '/both/x', 'rita');
    expect(both).toMatchObject({ allowed: false, status: 403, reason: 'explicit_deny', ruleId: 'hard-block' });
    expect(await counter('keycard_decisions_total')).toEqual({ 'service=orders,decision=deny,reason=explicit_deny': 2 });
    expect(await counter('keycard_dry_run_denies_total')).toEqual({});
  });

  it('does not turn a request no rule allows into an allow', async () => {
    const decision = await decide('orders', '/beta/feature', 'bob');
    expect(decision).toMatchObject({ allowed: false, status: 403, reason: 'no_matching_rule' });
    expect(decision.dryRun).toBeUndefined();
  });

  it('changes nothing when it does not apply', async () => {
    const decision = await decide('orders', '/current', 'rita');
    expect(decision).toMatchObject({ allowed: true, ruleId: 'read' });
    expect(decision.dryRun).toBeUndefined();
    expect(decision.trace).toEqual([{ id: 'read', effect: 'allow', outcome: 'applied' }]);
  });

  it('leaves token errors enforced in an enforcing service', async () => {
    const decision = await decide('orders', '/beta/feature', undefined, { headers: new Map([['authorization', 'Bearer x.y.z']]) });
    expect(decision).toMatchObject({ allowed: false, status: 401, reason: 'malformed_token' });
  });
});
