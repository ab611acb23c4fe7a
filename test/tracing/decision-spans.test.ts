// keycard as a real process exporting OTLP/HTTP (protobuf) to a receiver in this test: Checks
// carrying the proxy's trace context (W3C, B3 single and multi-header, gRPC call metadata) become
// one keycard.check span per decision, child of the proxy's span, with a span per phase and the
// store reads and JWKS fetches under the phase that made them; never a token.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { responseHeader, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { decisionExported, newTrace, only, PHASES, spanText, startWithEnv, traceparent, type ProxyTrace } from './helpers.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

let receiver: OtlpReceiver;
let workspace: Workspace;
let keycard: KeycardProcess;
let client: AuthorizationClient;
let key: TestKey;
/** Every token sent in this file: none may appear in anything exported. */
const tokens: string[] = [];

beforeAll(async () => {
  receiver = await OtlpReceiver.http();
  key = await makeKey('ES256');
  workspace = new Workspace().writeAll({
    'keycard.yaml': settingsYaml(`
tracing:
  endpoint: ${receiver.endpoint}
  protocol: http/protobuf
  scheduledDelay: 20ms
`),
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
  });
  keycard = await startWithEnv(workspace.path('keycard.yaml'), {});
  client = createCheckClient(keycard.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await keycard?.stop();
  await receiver?.close();
  workspace?.remove();
});

async function tokenFor(subject: string, signingKey = key): Promise<string> {
  const token = await signToken(signingKey, { sub: subject });
  tokens.push(token);
  return token;
}

async function ask(spec: HttpRequestSpec, subject?: string, signingKey?: TestKey): Promise<CheckResponse__Output> {
  const headers = { ...spec.headers };
  if (subject) headers.authorization = `Bearer ${await tokenFor(subject, signingKey)}`;
  return check(client, buildCheckRequest({ service: 'orders', ...spec, headers }));
}

function checkWithMetadata(spec: HttpRequestSpec, metadata: Metadata): Promise<CheckResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Check(buildCheckRequest({ service: 'orders', ...spec }), metadata, { deadline: Date.now() + 5000 }, (error: ServiceError | null, response?: CheckResponse__Output) =>
      error || !response ? reject(error ?? new Error('empty response')) : resolve(response),
    );
  });
}

const decisionOf = (proxy: ProxyTrace) => receiver.trace(proxy.traceId, decisionExported);

function children(spans: readonly ReceivedSpan[], parent: ReceivedSpan): string[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId).map((span) => span.name);
}

describe('a Check carrying a W3C traceparent', () => {
  let proxy: ProxyTrace;
  let spans: ReceivedSpan[];
  let response: CheckResponse__Output;

  beforeAll(async () => {
    proxy = newTrace();
    response = await ask({ path: '/orders/42', headers: { traceparent: traceparent(proxy), tracestate: 'vendor=opaque', 'x-request-id': 'req-1234' } }, 'alice');
    spans = await decisionOf(proxy);
  });

  it('is answered as always', () => {
    expect(response.status?.code).toBe(0);
  });

  it('becomes one keycard.check server span, child of the proxy span, in the proxy trace', () => {
    const decision = only(spans, 'keycard.check');
    expect(decision.traceId).toBe(proxy.traceId);
    expect(decision.parentSpanId).toBe(proxy.spanId);
    expect(decision.kind).toBe('SPAN_KIND_SERVER');
    expect(decision.traceState).toBe('vendor=opaque');
    expect(decision.resource['service.name']).toBe('keycard');
    expect(decision.endNs).toBeGreaterThanOrEqual(decision.startNs);
  });

  it('has one child span per phase, in order, inside the decision', () => {
    const decision = only(spans, 'keycard.check');
    expect(children(spans, decision)).toEqual(expect.arrayContaining(PHASES));
    expect(children(spans, decision)).toHaveLength(PHASES.length);
    const phases = PHASES.map((name) => only(spans, name));
    for (const [index, phase] of phases.entries()) {
      expect(phase.kind).toBe('SPAN_KIND_INTERNAL');
      expect(phase.startNs).toBeGreaterThanOrEqual(decision.startNs);
      expect(phase.endNs).toBeLessThanOrEqual(decision.endNs);
      if (index > 0) expect(phase.startNs).toBeGreaterThanOrEqual(phases[index - 1]!.endNs);
    }
  });

  it('puts the store reads of the state phase under it', () => {
    const state = only(spans, 'keycard.state');
    expect(children(spans, state).sort()).toEqual(['keycard.store.revocationFor', 'keycard.store.rolesFor']);
    const roles = only(spans, 'keycard.store.rolesFor');
    expect(roles.attributes).toMatchObject({ 'db.operation.name': 'rolesFor', 'keycard.store.kind': 'memory' });
  });

  it('records the decision: service, outcome, rule, status, policy version, credential, cache, ids', () => {
    const decision = only(spans, 'keycard.check');
    expect(decision.attributes).toMatchObject({
      'keycard.decision': 'allow',
      'keycard.reason': 'allowed',
      'keycard.service': 'orders',
      'keycard.rule_id': 'read',
      'keycard.status': 200,
      'keycard.credential': 'jwt',
      'keycard.issuer': 'test-idp',
      'keycard.token_cache': 'miss',
      'keycard.decision_id': responseHeader(response, 'x-keycard-decision-id'),
      'keycard.request_id': 'req-1234',
      'rpc.system.name': 'grpc',
      'rpc.method': 'envoy.service.auth.v3.Authorization/Check',
    });
    expect(decision.attributes['keycard.policy_version']).toEqual(expect.any(String));
    expect(decision.status.code).toBe('STATUS_CODE_UNSET');
  });

  it('says when the verified-token cache answered', async () => {
    const token = tokens[0]!;
    const again = newTrace();
    await check(client, buildCheckRequest({ service: 'orders', path: '/orders/7', headers: { traceparent: traceparent(again), authorization: `Bearer ${token}` } }));
    expect(only(await decisionOf(again), 'keycard.check').attributes['keycard.token_cache']).toBe('hit');
  });
});

describe('denies', () => {
  it('record the reason without an error status: a deny is not a failure', async () => {
    const proxy = newTrace();
    const response = await ask({ method: 'POST', path: '/orders/42/refund', headers: { traceparent: traceparent(proxy) } }, 'alice');
    expect(response.status?.code).toBe(7);
    const spans = await decisionOf(proxy);
    const decision = only(spans, 'keycard.check');
    expect(decision.attributes).toMatchObject({ 'keycard.decision': 'deny', 'keycard.reason': 'no_matching_rule', 'keycard.status': 403, 'keycard.service': 'orders' });
    expect(decision.attributes['error.type']).toBeUndefined();
    expect(decision.status.code).toBe('STATUS_CODE_UNSET');
    expect(children(spans, decision)).toHaveLength(PHASES.length);
  });

  it('stopped while routing end in the route phase, the only phase traced', async () => {
    const proxy = newTrace();
    await ask({ service: 'nowhere', path: '/x', headers: { traceparent: traceparent(proxy) } });
    const spans = await decisionOf(proxy);
    const decision = only(spans, 'keycard.check');
    expect(decision.attributes).toMatchObject({ 'keycard.decision': 'deny', 'keycard.reason': 'unknown_service' });
    // The requested name is not a configured service: it is never recorded.
    expect(decision.attributes['keycard.service']).toBeUndefined();
    expect(children(spans, decision).sort()).toEqual(['keycard.respond', 'keycard.route']);
    expect(only(spans, 'keycard.route').attributes['keycard.reason']).toBe('unknown_service');
  });
});

describe('a token signed by an unknown key', () => {
  it('makes the identity phase fetch the JWKS again, traced under it', async () => {
    const stranger = await makeKey('ES256');
    const proxy = newTrace();
    const response = await ask({ path: '/orders/1', headers: { traceparent: traceparent(proxy) } }, 'alice', stranger);
    expect(response.status?.code).toBe(16);
    const spans = await decisionOf(proxy);
    const fetch = only(spans, 'keycard.jwks.fetch');
    expect(fetch.parentSpanId).toBe(only(spans, 'keycard.identity').spanId);
    expect(fetch.attributes).toMatchObject({ 'keycard.issuer': 'test-idp', 'keycard.jwks.file': workspace.path('jwks.json') });
    expect(only(spans, 'keycard.check').attributes['keycard.reason']).toBe('unknown_key');
  });
});

describe('other trace carriers', () => {
  it('B3 multi-header (x-b3-*, as Envoy sends it)', async () => {
    const proxy = newTrace();
    await ask({ path: '/healthz', headers: { 'x-b3-traceid': proxy.traceId, 'x-b3-spanid': proxy.spanId, 'x-b3-sampled': '1' } });
    const decision = only(await decisionOf(proxy), 'keycard.check');
    expect(decision.parentSpanId).toBe(proxy.spanId);
  });

  it('B3 single header', async () => {
    const proxy = newTrace();
    await ask({ path: '/healthz', headers: { b3: `${proxy.traceId}-${proxy.spanId}-1` } });
    expect(only(await decisionOf(proxy), 'keycard.check').parentSpanId).toBe(proxy.spanId);
  });

  it('W3C wins over B3 when a request carries both', async () => {
    const w3c = newTrace();
    const b3 = newTrace();
    await ask({ path: '/healthz', headers: { traceparent: traceparent(w3c), 'x-b3-traceid': b3.traceId, 'x-b3-spanid': b3.spanId, 'x-b3-sampled': '1' } });
    expect(only(await decisionOf(w3c), 'keycard.check').parentSpanId).toBe(w3c.spanId);
  });

  it('the Check call metadata (Envoy ext_authz client span) wins over the request headers', async () => {
    const call = newTrace();
    const request = newTrace();
    const metadata = new Metadata();
    metadata.set('traceparent', traceparent(call));
    await checkWithMetadata({ path: '/healthz', headers: { traceparent: traceparent(request) } }, metadata);
    expect(only(await decisionOf(call), 'keycard.check').parentSpanId).toBe(call.spanId);
  });
});

describe('sampling', () => {
  it('follows an unsampled parent: nothing is exported for it', async () => {
    const unsampled = newTrace();
    const unsampledB3 = newTrace();
    await ask({ path: '/orders/42', headers: { traceparent: traceparent(unsampled, false) } }, 'alice');
    await ask({ path: '/healthz', headers: { 'x-b3-traceid': unsampledB3.traceId, 'x-b3-spanid': unsampledB3.spanId, 'x-b3-sampled': '0' } });
    // A sampled Check after them: once it is exported, anything of theirs would have been too.
    const sentinel = newTrace();
    await ask({ path: '/healthz', headers: { traceparent: traceparent(sentinel) } });
    await decisionOf(sentinel);
    expect(receiver.spans.filter((span) => span.traceId === unsampled.traceId || span.traceId === unsampledB3.traceId)).toEqual([]);
  });

  it('starts a root span for a request without a parent (parentbased_always_on)', async () => {
    const response = await ask({ path: '/orders/42', headers: { 'x-request-id': 'root-request' } }, 'sam');
    const decisionId = responseHeader(response, 'x-keycard-decision-id');
    const decision = await receiver.until(() => receiver.spans.find((span) => span.name === 'keycard.check' && span.attributes['keycard.decision_id'] === decisionId), 10_000, 'the root decision span');
    expect(decision.parentSpanId).toBe('');
    expect(decision.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(decision.attributes['keycard.request_id']).toBe('root-request');
    const spans = await receiver.trace(decision.traceId, decisionExported);
    expect(children(spans, decision)).toHaveLength(PHASES.length);
  });
});

describe('what is exported', () => {
  it('never carries a token, a header value or the authorization header', async () => {
    expect(tokens.length).toBeGreaterThan(3);
    const everything = receiver.spans.map(spanText).join('\n');
    const raw = Buffer.concat(receiver.bodies);
    for (const token of tokens) {
      expect(everything).not.toContain(token);
      // Any part of it: the header, the payload or the signature.
      for (const part of token.split('.')) {
        expect(everything).not.toContain(part);
        expect(raw.includes(part)).toBe(false);
      }
    }
    expect(everything.toLowerCase()).not.toContain('bearer');
    expect(everything).not.toContain('authorization');
  });

  it('counts the spans the collector accepted', async () => {
    const metrics = await (await fetch(`${keycard.adminUrl}/metrics`)).text();
    const exported = Number(/^keycard_trace_spans_exported_total (\d+)/m.exec(metrics)?.[1]);
    expect(exported).toBeGreaterThan(0);
    expect(metrics).toMatch(/^keycard_trace_spans_dropped_total\{reason="queue_full"\} 0$/m);
  });
});
