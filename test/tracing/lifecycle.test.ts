// When tracing is on and off, from the settings file or the OTEL_* environment alone; the HTTP
// check mode traced like gRPC; spans still queued are exported when keycard (or a cluster worker)
// stops. Stopping is also how the negative cases are made certain: a keycard with a tracer
// flushes everything before it exits, so "nothing arrived after exit" means nothing was traced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { decisionExported, newTrace, only, PHASES, startWithEnv, traceparent, type ProxyTrace } from './helpers.js';
import { OtlpReceiver } from './otlp-receiver.js';

let key: TestKey;
const workspaces: Workspace[] = [];
const receivers: OtlpReceiver[] = [];

beforeAll(async () => {
  key = await makeKey('ES256');
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  for (const workspace of workspaces) workspace.remove();
});

function workspaceWith(extraSettings: string): Workspace {
  const workspace = new Workspace().writeAll({
    'keycard.yaml': settingsYaml(extraSettings),
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
  });
  workspaces.push(workspace);
  return workspace;
}

async function receiver(kind: 'http' | 'grpc'): Promise<OtlpReceiver> {
  const made = kind === 'http' ? await OtlpReceiver.http() : await OtlpReceiver.grpc();
  receivers.push(made);
  return made;
}

/** A traced gRPC Check of the anonymous health endpoint. */
async function tracedCheck(keycard: KeycardProcess, proxy: ProxyTrace = newTrace()): Promise<ProxyTrace> {
  const client = createCheckClient(keycard.grpcAddress);
  try {
    const response = await check(client, buildCheckRequest({ service: 'orders', path: '/healthz', headers: { traceparent: traceparent(proxy) } }));
    expect(response.status?.code).toBe(0);
  } finally {
    client.close();
  }
  return proxy;
}

async function metricsOf(keycard: KeycardProcess): Promise<string> {
  return (await fetch(`${keycard.adminUrl}/metrics`)).text();
}

describe('tracing off', () => {
  it('without a tracing key or OTEL_* variables there is no tracer: nothing counted, nothing exported', async () => {
    const keycard = await startWithEnv(workspaceWith('').path('keycard.yaml'), {});
    try {
      await tracedCheck(keycard);
      const metrics = await metricsOf(keycard);
      expect(metrics).toMatch(/^keycard_trace_spans_exported_total 0$/m);
      expect(metrics).not.toMatch(/^keycard_trace_spans_dropped_total\{/m);
    } finally {
      expect(await keycard.stop()).toBe(0);
    }
  });

  it('OTEL_SDK_DISABLED=true wins over the settings and the endpoint variables', async () => {
    const collector = await receiver('http');
    const workspace = workspaceWith(`tracing: { endpoint: "${collector.endpoint}" }`);
    const keycard = await startWithEnv(workspace.path('keycard.yaml'), { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
    await tracedCheck(keycard);
    expect(await metricsOf(keycard)).not.toMatch(/^keycard_trace_spans_dropped_total\{/m);
    expect(await keycard.stop()).toBe(0);
    expect(collector.spans).toEqual([]);
  });

  it('tracing.enabled: false wins over the OTEL_* endpoint', async () => {
    const collector = await receiver('http');
    const keycard = await startWithEnv(workspaceWith('tracing: { enabled: false }').path('keycard.yaml'), { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
    await tracedCheck(keycard);
    expect(await keycard.stop()).toBe(0);
    expect(collector.spans).toEqual([]);
  });
});

describe('tracing from the OTEL_* environment alone, with the HTTP check mode, over OTLP/gRPC', () => {
  let collector: OtlpReceiver;
  let grpcCheck: ProxyTrace;
  let httpCheck: ProxyTrace;
  let httpStatus: number;

  beforeAll(async () => {
    collector = await receiver('grpc');
    const workspace = workspaceWith('http: { listen: 127.0.0.1:0 }');
    const keycard = await startWithEnv(workspace.path('keycard.yaml'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_SERVICE_NAME: 'keycard-edge',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.name=ignored',
      // An hour: only the flush at stop can deliver these spans.
      OTEL_BSP_SCHEDULE_DELAY: '3600000',
    });
    grpcCheck = await tracedCheck(keycard);
    httpCheck = newTrace();
    const response = await fetch(`${keycard.httpUrl}/service/orders/orders/1`, { headers: { traceparent: traceparent(httpCheck), 'x-request-id': 'http-req-1' } });
    httpStatus = response.status;
    expect(await keycard.stop()).toBe(0);
  });

  it('exports the queued spans when keycard stops', async () => {
    const spans = await collector.trace(grpcCheck.traceId, decisionExported, 5000);
    expect(only(spans, 'keycard.check').parentSpanId).toBe(grpcCheck.spanId);
    expect(only(spans, 'keycard.check').resource).toMatchObject({ 'service.name': 'keycard-edge', 'deployment.environment.name': 'test' });
  });

  it('traces an HTTP check like a gRPC one', async () => {
    expect(httpStatus).toBe(401);
    const spans = await collector.trace(httpCheck.traceId, decisionExported, 5000);
    const decision = only(spans, 'keycard.check');
    expect(decision.parentSpanId).toBe(httpCheck.spanId);
    expect(decision.kind).toBe('SPAN_KIND_SERVER');
    expect(decision.attributes).toMatchObject({
      'keycard.decision': 'deny',
      'keycard.reason': 'authentication_required',
      'keycard.status': 401,
      'keycard.service': 'orders',
      'keycard.request_id': 'http-req-1',
      'http.response.status_code': 401,
    });
    expect(decision.attributes['rpc.system.name']).toBeUndefined();
    expect(spans.filter((span) => span.parentSpanId === decision.spanId).map((span) => span.name).sort()).toEqual([...PHASES].sort());
  });
});

describe('cluster mode (keycard serve --workers 2)', () => {
  it('each worker exports its own spans and flushes them when the cluster stops', async () => {
    const collector = await receiver('http');
    const workspace = workspaceWith(`tracing: { endpoint: "${collector.endpoint}", scheduledDelay: 1h }`);
    const keycard = await startWithEnv(workspace.path('keycard.yaml'), {}, ['--workers', '2']);
    const proxy = await tracedCheck(keycard);
    expect(await keycard.stop()).toBe(0);
    const decision = only(await collector.trace(proxy.traceId, decisionExported, 5000), 'keycard.check');
    expect(decision.parentSpanId).toBe(proxy.spanId);
    expect(decision.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(decision.resource['process.pid']).not.toBe(keycard.process.pid);
  });
});
