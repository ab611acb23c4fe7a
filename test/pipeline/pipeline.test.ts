// The pipeline in-process: phases, fail-closed behaviour and what a Decision records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../src/authn/authenticator.js';
import type { Pipeline, PipelineDeps } from '../../src/pipeline/pipeline.js';
import type { AuthzInput, Decision } from '../../src/pipeline/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/store.js';
import { makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { authzInput, pipelineWith, testAuthenticator } from '../helpers/pipeline.js';
import { compileYaml } from '../helpers/policy.js';
import { ORDERS_POLICY, Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
let key: TestKey;
let authenticator: Authenticator;
const policies = new PolicySet([compileYaml(ORDERS_POLICY)], 'v1');

beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace();
  authenticator = await testAuthenticator(workspace, key);
});
afterAll(() => workspace.remove());

function pipeline(overrides: Partial<PipelineDeps> = {}): Pipeline {
  return pipelineWith({
    policies: () => policies,
    authenticator,
    store: new MemoryStore([{ subject: 'alice', role: 'customer' }]),
    limits: { maxHeaders: 10, maxHeaderBytes: 1000 },
    ...overrides,
  });
}

async function input(path: string, subject?: string, extra: Partial<AuthzInput> = {}): Promise<AuthzInput> {
  const headers = new Map<string, string>();
  if (subject) headers.set('authorization', `Bearer ${await signToken(key, { sub: subject })}`);
  return authzInput('orders', path, { host: 'orders.shop.svc', headers, ...extra });
}

describe('Pipeline', () => {
  it('allows and records identity, roles, rule, policy version and phase timings', async () => {
    const decision = await pipeline().decide(await input('/orders/42?x=1', 'alice'));
    expect(decision).toMatchObject({
      allowed: true,
      status: 200,
      reason: 'allowed',
      service: 'orders',
      policyVersion: 'v1',
      ruleId: 'read',
      roles: ['customer'],
      path: '/orders/42',
      identity: { authenticated: true, subject: 'alice', issuer: 'test-idp' },
    });
    expect(decision.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(decision.phaseMs).sort()).toEqual(['authorize', 'identity', 'route', 'state']);
  });

  it('gives every decision its own id', async () => {
    const p = pipeline();
    const [a, b] = await Promise.all([p.decide(await input('/healthz')), p.decide(await input('/healthz'))]);
    expect(a.id).not.toBe(b.id);
  });

  it('denies with store_unavailable (503) when the store fails', async () => {
    class BrokenStore extends MemoryStore {
      override readonly kind = 'broken';
      override rolesFor(): Promise<ReadonlySet<string>> {
        return Promise.reject(new Error('connection refused'));
      }
    }
    const failing: StateStore = new BrokenStore();
    const decision = await pipeline({ store: failing }).decide(await input('/orders/42', 'alice'));
    expect(decision).toMatchObject({ allowed: false, status: 503, reason: 'store_unavailable', detail: 'broken store: connection refused' });
  });

  it('denies with internal_error on an unexpected exception, never throws', async () => {
    const decision = await pipeline({ policies: () => { throw new TypeError('boom'); } }).decide(await input('/healthz'));
    expect(decision).toMatchObject({ allowed: false, status: 403, reason: 'internal_error' });
    expect(decision.detail).toContain('boom');
  });

  it('denies not_ready while no policy set is loaded', async () => {
    expect(await pipeline({ policies: () => undefined }).decide(await input('/healthz'))).toMatchObject({ status: 503, reason: 'not_ready' });
  });

  it('rejects an empty or odd method, and oversized header sets', async () => {
    const p = pipeline();
    expect((await p.decide(await input('/healthz', undefined, { method: '' }))).reason).toBe('invalid_request');
    expect((await p.decide(await input('/healthz', undefined, { method: 'GET /x' }))).reason).toBe('invalid_request');
    const many = new Map(Array.from({ length: 11 }, (_, i) => [`h${i}`, 'v'] as [string, string]));
    expect((await p.decide(await input('/healthz', undefined, { headers: many }))).reason).toBe('request_too_large');
    const big = new Map([['h', 'v'.repeat(1001)]]);
    expect((await p.decide(await input('/healthz', undefined, { headers: big }))).reason).toBe('request_too_large');
  });

  it('authenticates before authorizing: a bad token is 401 even where anonymous access is allowed', async () => {
    const decision = await pipeline().decide(await input('/healthz', undefined, { headers: new Map([['authorization', 'Bearer x.y.z']]) }));
    expect(decision).toMatchObject({ status: 401, reason: 'malformed_token' });
  });

  it('keeps the decision when an observer throws', async () => {
    const seen: Decision[] = [];
    const p = pipeline({ onDecision: (decision) => { seen.push(decision); throw new Error('observer failed'); } });
    expect(await p.decide(await input('/healthz'))).toMatchObject({ allowed: true });
    expect(seen).toHaveLength(1);
  });

  it('explains a deny in its detail', async () => {
    const decision = await pipeline().decide(await input('/orders/42/refund', 'alice', { method: 'POST' }));
    expect(decision).toMatchObject({ reason: 'no_matching_rule', detail: 'refund: alice lacks role finance; support-all: alice lacks role support' });
  });
});
