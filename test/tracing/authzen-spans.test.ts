// keycard as a real process with the AuthZEN listener, exporting OTLP/HTTP to a receiver in this
// test: each AuthZEN request carrying the caller's trace context is one keycard.authzen server
// span in the caller's trace, with the caller's authentication and one keycard.evaluation per
// decision of an evaluation or a batch under it, each with the phase spans and the attributes of a
// Check's decision; a search is one span that counts its decisions. Never the subject, a resource
// id, properties or context values, nor the caller's token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { freePort } from '../helpers/redis-server.js';
import { Workspace } from '../helpers/workspace.js';
import { BILLING_POLICY, SEED, TODO_POLICY, todoSettingsYaml } from '../authzen/fixture.js';
import { newTrace, only, spanText, startWithEnv, traceparent, type ProxyTrace } from './helpers.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

const DECISION_PHASES = ['keycard.route', 'keycard.identity', 'keycard.state', 'keycard.authorize'];
/** Values sent in questions that no span may carry. */
const SECRETS = ['prop-secret-value-31', 'ctx-secret-value-47', 'resource-secret-id-59'];

let receiver: OtlpReceiver;
let workspace: Workspace;
let keycard: KeycardProcess;
let key: TestKey;
let base: string;
let token: string;

beforeAll(async () => {
  receiver = await OtlpReceiver.http();
  key = await makeKey('ES256');
  const authzenPort = await freePort();
  workspace = new Workspace().writeAll({
    'keycard.yaml': todoSettingsYaml({
      authzenPort,
      extra: `tracing:\n  endpoint: ${receiver.endpoint}\n  protocol: http/protobuf\n  scheduledDelay: 20ms`,
    }),
    'jwks.json': jwks(key),
    'policies/todos.yaml': TODO_POLICY,
    'policies/billing.yaml': BILLING_POLICY,
    'seed.yaml': SEED,
  });
  keycard = await startWithEnv(workspace.path('keycard.yaml'), {});
  base = `http://127.0.0.1:${authzenPort}`;
  token = await signToken(key, { sub: 'svc-todos' });
});

afterAll(async () => {
  await keycard?.stop();
  await receiver?.close();
  workspace?.remove();
});

async function post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The whole request has been exported: its span ends last. */
const requestOf = (caller: ProxyTrace) => receiver.trace(caller.traceId, (spans) => spans.some((span) => span.name === 'keycard.authzen'));

function children(spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId);
}

function expectPhases(spans: readonly ReceivedSpan[], evaluation: ReceivedSpan): void {
  const phases = children(spans, evaluation).filter((span) => DECISION_PHASES.includes(span.name));
  expect(phases.map((span) => span.name)).toEqual(DECISION_PHASES);
  for (const [index, phase] of phases.entries()) {
    expect(phase.kind).toBe('SPAN_KIND_INTERNAL');
    expect(phase.startNs).toBeGreaterThanOrEqual(evaluation.startNs);
    expect(phase.endNs).toBeLessThanOrEqual(evaluation.endNs);
    if (index > 0) expect(phase.startNs).toBeGreaterThanOrEqual(phases[index - 1]!.endNs);
  }
  // No respond phase: the request span covers the answer.
  expect(children(spans, evaluation).map((span) => span.name)).not.toContain('keycard.respond');
}

function expectNothingSecret(spans: readonly ReceivedSpan[]): void {
  for (const span of spans) {
    const text = spanText(span);
    for (const secret of [...SECRETS, token, ...token.split('.'), 'beth', 'morty']) expect(text).not.toContain(secret);
  }
}

describe('an evaluation carrying a W3C traceparent', () => {
  let caller: ProxyTrace;
  let spans: ReceivedSpan[];
  let answer: { status: number; body: Record<string, unknown> };

  beforeAll(async () => {
    caller = newTrace();
    answer = await post(
      '/access/v1/evaluation',
      {
        subject: { type: 'user', id: 'beth', properties: { nickname: SECRETS[0] } },
        action: { name: 'can_update_todo' },
        resource: { type: 'todo', id: '1' },
        context: { note: SECRETS[1] },
      },
      { traceparent: traceparent(caller), tracestate: 'vendor=opaque', 'x-request-id': 'authzen-req-1' },
    );
    spans = await requestOf(caller);
  });

  it('is answered as always', () => {
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ decision: true, context: { rule: 'update-own' } });
  });

  it('becomes one keycard.authzen server span, child of the caller span, in the caller trace', () => {
    const request = only(spans, 'keycard.authzen');
    expect(request.traceId).toBe(caller.traceId);
    expect(request.parentSpanId).toBe(caller.spanId);
    expect(request.kind).toBe('SPAN_KIND_SERVER');
    expect(request.traceState).toBe('vendor=opaque');
    expect(request.attributes).toMatchObject({
      'keycard.authzen.endpoint': 'evaluation',
      'http.request.method': 'POST',
      'http.route': '/access/v1/evaluation',
      'http.response.status_code': 200,
      'keycard.request_id': 'authzen-req-1',
      'keycard.credential': 'jwt',
      'keycard.issuer': 'test-idp',
      'keycard.token_cache': 'miss',
      'keycard.authzen.decisions': 1,
      'keycard.authzen.allowed': 1,
    });
    expect(request.status.code).toBe('STATUS_CODE_UNSET');
  });

  it("puts the caller's authentication (its revocation read under it), the caller-scope read and one evaluation under the request", () => {
    const request = only(spans, 'keycard.authzen');
    expect(children(spans, request).map((span) => span.name).sort()).toEqual(['keycard.authzen.caller', 'keycard.evaluation', 'keycard.store.rolesFor']);
    const authentication = only(spans, 'keycard.authzen.caller');
    expect(children(spans, authentication).map((span) => span.name)).toEqual(['keycard.store.revocationFor']);
  });

  it('gives the evaluation the phase children and the attributes of a Check decision, plus the question', () => {
    const evaluation = only(spans, 'keycard.evaluation');
    expect(evaluation.kind).toBe('SPAN_KIND_INTERNAL');
    expectPhases(spans, evaluation);
    expect(evaluation.attributes).toMatchObject({
      'keycard.decision': 'allow',
      'keycard.reason': 'allowed',
      'keycard.service': 'todos',
      'keycard.rule_id': 'update-own',
      'keycard.status': 200,
      'keycard.decision_id': (answer.body.context as Record<string, unknown>).id,
      'keycard.credential': 'authzen',
      'keycard.issuer': 'authzen',
      'keycard.authzen.endpoint': 'evaluation',
      'keycard.authzen.resource_type': 'todo',
      'keycard.authzen.action': 'can_update_todo',
    });
    expect(evaluation.attributes['keycard.policy_version']).toEqual(expect.any(String));
    // The subject's roles are read in the state phase, under it.
    const state = only(spans, 'keycard.state');
    expect(children(spans, state).map((span) => span.name)).toContain('keycard.store.rolesFor');
  });

  it('carries no subject, properties, context or token', () => {
    expectNothingSecret(spans);
  });
});

describe('a batch of evaluations', () => {
  it('is one request span with one evaluation span per item, each with its phases', async () => {
    const caller = newTrace();
    const answer = await post(
      '/access/v1/evaluations',
      {
        subject: { type: 'user', id: 'morty' },
        context: { note: SECRETS[1] },
        evaluations: [
          { action: { name: 'can_read_todos' }, resource: { type: 'todo', id: '2' } },
          { action: { name: 'can_update_todo' }, resource: { type: 'todo', id: '2' } },
          { action: { name: 'can_delete_todo' }, resource: { type: 'todo', id: SECRETS[2] } },
        ],
      },
      { traceparent: traceparent(caller) },
    );
    expect(answer.status).toBe(200);
    expect((answer.body.evaluations as { decision: boolean }[]).map((item) => item.decision)).toEqual([true, true, false]);
    const spans = await requestOf(caller);
    const request = only(spans, 'keycard.authzen');
    expect(request.parentSpanId).toBe(caller.spanId);
    expect(request.attributes).toMatchObject({ 'keycard.authzen.endpoint': 'evaluations', 'keycard.authzen.decisions': 3, 'keycard.authzen.allowed': 2 });
    const evaluations = children(spans, request).filter((span) => span.name === 'keycard.evaluation');
    expect(evaluations).toHaveLength(3);
    expect(evaluations.map((span) => [span.attributes['keycard.authzen.action'], span.attributes['keycard.decision']]).sort()).toEqual([
      ['can_delete_todo', 'deny'],
      ['can_read_todos', 'allow'],
      ['can_update_todo', 'allow'],
    ]);
    for (const evaluation of evaluations) {
      expect(evaluation.traceId).toBe(caller.traceId);
      expect(evaluation.attributes).toMatchObject({ 'keycard.authzen.endpoint': 'evaluations', 'keycard.authzen.resource_type': 'todo', 'keycard.service': 'todos' });
      expectPhases(spans, evaluation);
    }
    const denied = evaluations.find((span) => span.attributes['keycard.decision'] === 'deny')!;
    expect(denied.attributes['keycard.reason']).toBe('no_matching_rule');
    expect(denied.status.code).toBe('STATUS_CODE_UNSET');
    expectNothingSecret(spans);
  });
});

describe('a search', () => {
  it('is one request span that counts the decisions it made, with no span per candidate', async () => {
    const caller = newTrace();
    const answer = await post(
      '/access/v1/search/resource',
      { subject: { type: 'user', id: 'beth' }, action: { name: 'can_update_todo' }, resource: { type: 'todo' } },
      { b3: `${caller.traceId}-${caller.spanId}-1` },
    );
    expect(answer.status).toBe(200);
    const results = answer.body.results as { id: string }[];
    expect(results.map((result) => result.id).sort()).toEqual(['1', '3']);
    const spans = await requestOf(caller);
    const request = only(spans, 'keycard.authzen');
    expect(request.parentSpanId).toBe(caller.spanId);
    expect(request.attributes).toMatchObject({ 'keycard.authzen.endpoint': 'searchResource', 'http.route': '/access/v1/search/resource', 'keycard.authzen.allowed': 2 });
    expect(request.attributes['keycard.authzen.decisions']).toBeGreaterThanOrEqual(2);
    expect(spans.map((span) => span.name)).not.toContain('keycard.evaluation');
    // Nor the candidates' store reads: only the caller's authentication and scope check are spanned.
    expect(spans.filter((span) => span.name === 'keycard.store.rolesFor')).toHaveLength(1);
    expectNothingSecret(spans);
  });
});

describe('a request refused before deciding', () => {
  it('is still one span, with the status and no decision', async () => {
    const caller = newTrace();
    const response = await fetch(`${base}/access/v1/evaluation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token', traceparent: traceparent(caller) },
      body: '{}',
    });
    expect(response.status).toBe(401);
    const spans = await requestOf(caller);
    const request = only(spans, 'keycard.authzen');
    expect(request.attributes).toMatchObject({ 'http.response.status_code': 401, 'keycard.authzen.decisions': 0 });
    expect(request.status.code).toBe('STATUS_CODE_UNSET');
    expect(only(spans, 'keycard.authzen.caller').attributes['keycard.reason']).toBe('malformed_token');
  });
});
