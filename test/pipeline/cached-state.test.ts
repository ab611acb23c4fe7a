// The pipeline over a caching store in front of a remote store: a cached allow ends the moment the
// change that revokes it arrives, and a store failure is served stale or denied per service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../src/authn/authenticator.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { RelationResolver } from '../../src/policy/relations/resolver.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { CachingStore } from '../../src/state/caching-store.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { Revocation } from '../../src/state/store.js';
import { ControlledStore } from '../helpers/controlled-store.js';
import { makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { authzInput, pipelineWith, testAuthenticator } from '../helpers/pipeline.js';
import { compileYaml } from '../helpers/policy.js';
import { ORDER_RELATION_RULES, ORDER_RELATION_TYPES, ORDER_TUPLES, tuples } from '../helpers/relations.js';
import { Workspace } from '../helpers/workspace.js';

const SCHEMA = new RelationSchema({ subjectType: 'user', maxDepth: 8, maxReads: 256, types: ORDER_RELATION_TYPES });

const rules = (service: string, store: string) => `
service: ${service}
${store}
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/items/{id}"] }, when: [{ role: customer }] }
`;

const policies = new PolicySet(
  [
    compileYaml(rules('strict', '')), // fail-closed, the default
    compileYaml(rules('lenient', 'store: { onError: serve-stale, maxStale: 30s }')),
    compileYaml(`service: orders\n${ORDER_RELATION_RULES}`, ['test-idp'], 'orders.yaml', { relationSchema: SCHEMA }),
  ],
  'v1',
);

let workspace: Workspace;
let key: TestKey;
let authenticator: Authenticator;

beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace();
  authenticator = await testAuthenticator(workspace, key);
});
afterAll(() => workspace.remove());

interface Fixture {
  readonly inner: ControlledStore;
  readonly store: CachingStore;
  readonly pipeline: Pipeline;
  advance(ms: number): void;
}

function fixture(): Fixture {
  let now = Date.now();
  const clock = () => now;
  const inner = new ControlledStore(new MemoryStore([{ subject: 'alice', role: 'customer' }], tuples(ORDER_TUPLES), clock));
  const store = new CachingStore(inner, { maxEntries: 100, ttl: 10_000, now: clock });
  const pipeline = pipelineWith({ policies: () => policies, authenticator, store, relations: new RelationResolver(store, SCHEMA) });
  return { inner, store, pipeline, advance: (ms) => (now += ms) };
}

/** One token, used for every request of a test, so its revocation answer can be cached. */
async function bearer(subject: string, claims: Record<string, unknown> = {}): Promise<Map<string, string>> {
  return new Map([['authorization', `Bearer ${await signToken(key, { sub: subject, claims })}`]]);
}

const get = (service: string, path: string, headers: Map<string, string>) => authzInput(service, path, { headers });

const revocation = (kind: Revocation['kind'], id: string): Revocation => {
  const now = Math.floor(Date.now() / 1000);
  return { kind, id, expiresAt: now + 3600, ...(kind === 'subject' && { before: now + 1 }) };
};

describe('a cached allow', () => {
  for (const [kind, id] of [
    ['token', 'jti-1'],
    ['session', 'sid-1'],
    ['subject', 'alice'],
  ] as const) {
    it(`ends the moment a ${kind} revocation arrives from another replica`, async () => {
      const { inner, pipeline } = fixture();
      const headers = await bearer('alice', { jti: 'jti-1', sid: 'sid-1' });
      expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({ allowed: true });
      expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({ allowed: true });
      expect(inner.calls).toMatchObject({ rolesFor: 1, revocationFor: 1 }); // the second one cost no store read
      await inner.data.revoke(revocation(kind, id)); // the change feed delivers it
      expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({ allowed: false, status: 401, reason: 'token_revoked' });
    });
  }

  it('ends the moment a role removal arrives', async () => {
    const { inner, pipeline } = fixture();
    const headers = await bearer('alice');
    expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({ allowed: true, roles: ['customer'] });
    expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({ allowed: true });
    expect(inner.calls.rolesFor).toBe(1);
    await inner.data.revokeRole({ subject: 'alice', role: 'customer' });
    expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({ allowed: false, status: 403, reason: 'no_matching_rule', roles: [] });
  });

  it('by relation ends the moment a tuple on its chain is removed', async () => {
    const { inner, pipeline } = fixture();
    const headers = await bearer('olga');
    expect(await pipeline.decide(get('orders', '/orders/43', headers))).toMatchObject({ allowed: true, ruleId: 'read-own-order' });
    const reads = inner.calls.subjectsOf;
    expect(await pipeline.decide(get('orders', '/orders/43', headers))).toMatchObject({ allowed: true });
    expect(inner.calls.subjectsOf).toBe(reads);
    await inner.data.removeTuple({ object: 'group:staff', relation: 'member', subject: 'user:olga' });
    expect(await pipeline.decide(get('orders', '/orders/43', headers))).toMatchObject({ allowed: false, reason: 'no_matching_rule' });
  });
});

describe('a store failure', () => {
  it('is served stale (up to maxStale) for a serve-stale service and denied 503 for a fail-closed one', async () => {
    const { inner, pipeline, advance } = fixture();
    const headers = await bearer('alice');
    for (const service of ['strict', 'lenient']) {
      expect(await pipeline.decide(get(service, '/items/1', headers))).toMatchObject({ allowed: true });
    }
    advance(20_000); // past the ttl: every answer must come from the store again
    inner.failure = new Error('connection refused');
    expect(await pipeline.decide(get('strict', '/items/1', headers))).toMatchObject({
      allowed: false,
      status: 503,
      reason: 'store_unavailable',
      detail: 'remote store: connection refused',
    });
    expect(await pipeline.decide(get('lenient', '/items/1', headers))).toMatchObject({ allowed: true, roles: ['customer'] });
    advance(10_001); // now older than the lenient service's 30 s
    expect(await pipeline.decide(get('lenient', '/items/1', headers))).toMatchObject({ allowed: false, status: 503, reason: 'store_unavailable' });
  });

  it('is denied 503 even for a serve-stale service when nothing is cached', async () => {
    const { inner, pipeline } = fixture();
    inner.failure = new Error('connection refused');
    expect(await pipeline.decide(get('lenient', '/items/1', await bearer('alice')))).toMatchObject({ status: 503, reason: 'store_unavailable' });
  });

  it('never serves a stale "not revoked" once the revocation has arrived', async () => {
    const { inner, pipeline } = fixture();
    const headers = await bearer('alice', { jti: 'jti-9' });
    expect(await pipeline.decide(get('lenient', '/items/1', headers))).toMatchObject({ allowed: true });
    inner.failure = new Error('connection refused');
    inner.healthy = false;
    inner.publish({ kind: 'revocation', revocation: revocation('token', 'jti-9') });
    expect(await pipeline.decide(get('lenient', '/items/1', headers))).toMatchObject({ allowed: false, status: 503, reason: 'store_unavailable' });
  });
});
