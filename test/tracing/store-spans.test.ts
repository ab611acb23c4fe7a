// Store reads against a real Redis (behind keycard's read cache) as spans: a client span per read
// under the state phase, saying whether the cache answered; with Redis down the decision is a
// store_unavailable deny whose span is an error (keycard could not decide), unlike a policy deny.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ORDERS_POLICY, SEED, Workspace } from '../helpers/workspace.js';
import { decisionExported, newTrace, only, startWithEnv, traceparent, type ProxyTrace } from './helpers.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

let redis: RedisServer;
let collector: OtlpReceiver;
let workspace: Workspace;
let keycard: KeycardProcess;
let client: AuthorizationClient;
let key: TestKey;

beforeAll(async () => {
  redis = await RedisServer.start();
  collector = await OtlpReceiver.http();
  key = await makeKey('ES256');
  workspace = new Workspace().writeAll({
    'keycard.yaml': `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - { name: test-idp, issuer: "https://idp.test.example/", audiences: [shop], jwksFile: jwks.json, algorithms: [ES256] }
policies: { dir: policies, watch: false }
store:
  type: redis
  url: ${redis.url()}
  keyPrefix: "tracing-${process.pid}:"
  seedFile: seed.yaml
  commandTimeout: 250ms
  connectTimeout: 1s
  cache: { maxEntries: 1000, ttl: 30s }
audit: { output: "off" }
log: { level: warn }
tracing: { endpoint: "${collector.endpoint}", scheduledDelay: 20ms }
`,
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
  });
  keycard = await startWithEnv(workspace.path('keycard.yaml'), {});
  client = createCheckClient(keycard.grpcAddress);
}, 60_000);

afterAll(async () => {
  client?.close();
  await keycard?.stop();
  await collector?.close();
  await redis?.remove();
  workspace?.remove();
});

/** A traced Check as `subject`; pass `token` to reuse one (revocation reads are cached per token). */
async function tracedAsk(subject: string, token?: string): Promise<{ code: number | undefined; spans: ReceivedSpan[]; token: string }> {
  const proxy: ProxyTrace = newTrace();
  token ??= await signToken(key, { sub: subject });
  const response = await check(client, buildCheckRequest({ service: 'orders', path: '/orders/42', headers: { traceparent: traceparent(proxy), authorization: `Bearer ${token}` } }));
  return { code: response.status?.code, spans: await collector.trace(proxy.traceId, decisionExported), token };
}

describe('store reads on Redis', () => {
  it('are client spans under the state phase, cache misses first, then hits', async () => {
    // Redis answers once it is connected and seeded: wait for alice's allow.
    let first = await tracedAsk('alice');
    for (let tries = 0; first.code !== 0 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      first = await tracedAsk('alice');
    }
    expect(first.code).toBe(0);
    const roles = only(first.spans, 'keycard.store.rolesFor');
    expect(roles.parentSpanId).toBe(only(first.spans, 'keycard.state').spanId);
    expect(roles.kind).toBe('SPAN_KIND_CLIENT');
    expect(roles.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'rolesFor', 'keycard.store.kind': 'redis', 'keycard.store.result': 'ok' });

    const second = await tracedAsk('alice', first.token);
    expect(only(second.spans, 'keycard.store.rolesFor').attributes).toMatchObject({ 'keycard.store.cache': 'hit', 'keycard.store.result': 'ok' });
    expect(only(second.spans, 'keycard.store.revocationFor').attributes['keycard.store.cache']).toBe('hit');
  });

  it('with Redis down: a store_unavailable deny, an error on the decision, the phase and the read', async () => {
    // sam was never read: his roles are not cached.
    const before = await tracedAsk('sam');
    expect(only(before.spans, 'keycard.store.rolesFor').attributes['keycard.store.cache']).toBe('miss');
    await redis.stop();
    const { code, spans } = await tracedAsk('fiona');
    expect(code).toBe(14);
    const decision = only(spans, 'keycard.check');
    expect(decision.attributes).toMatchObject({ 'keycard.decision': 'deny', 'keycard.reason': 'store_unavailable', 'keycard.status': 503, 'error.type': 'store_unavailable' });
    expect(decision.status).toEqual({ code: 'STATUS_CODE_ERROR', message: 'store_unavailable' });
    const state = only(spans, 'keycard.state');
    expect(state.status.code).toBe('STATUS_CODE_ERROR');
    expect(state.attributes['keycard.reason']).toBe('store_unavailable');
    const failedRead = spans.find((span) => span.name.startsWith('keycard.store.') && span.status.code === 'STATUS_CODE_ERROR');
    expect(failedRead?.attributes).toMatchObject({ 'keycard.store.cache': 'miss', 'keycard.store.result': 'error' });
    expect(failedRead?.attributes['error.type']).toEqual(expect.any(String));
  });
});
