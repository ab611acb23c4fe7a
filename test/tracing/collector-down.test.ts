// With the collector down, Checks answer as always: the exporter never blocks a decision. Two
// ways down: a collector that accepts connections and never answers (black-holed), and a port
// nobody listens on. A tiny queue overflows at once, and every span that cannot be delivered is
// counted in keycard_trace_spans_dropped_total; stopping keycard is not held up by the exporter.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { newTrace, startWithEnv, traceparent } from './helpers.js';

/** Accepts TCP connections and never writes a byte. */
async function blackHole(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** A port that was free a moment ago and has nobody listening now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Served {
  readonly workspace: Workspace;
  readonly keycard: KeycardProcess;
  readonly client: AuthorizationClient;
}

let key: TestKey;

async function serveTracingTo(endpoint: string, protocol: 'http/protobuf' | 'grpc'): Promise<Served> {
  const workspace = new Workspace().writeAll({
    'keycard.yaml': settingsYaml(`
tracing:
  endpoint: ${endpoint}
  protocol: ${protocol}
  maxQueueSize: 4
  maxExportBatchSize: 2
  scheduledDelay: 10ms
  exportTimeout: 2s
`),
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
  });
  const keycard = await startWithEnv(workspace.path('keycard.yaml'), {});
  return { workspace, keycard, client: createCheckClient(keycard.grpcAddress) };
}

async function dropped(served: Served, reason: string): Promise<number> {
  const text = await (await fetch(`${served.keycard.adminUrl}/metrics`)).text();
  return Number(new RegExp(`^keycard_trace_spans_dropped_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** 40 Checks one after another, each traced; every one must answer as usual and within a second. */
async function checksAnswerPromptly(served: Served): Promise<void> {
  const token = await signToken(key, { sub: 'alice' });
  for (let i = 0; i < 40; i++) {
    const started = performance.now();
    const allowed = await check(served.client, buildCheckRequest({ service: 'orders', path: `/orders/${i}`, headers: { traceparent: traceparent(newTrace()), authorization: `Bearer ${token}` } }), 5000);
    const denied = await check(served.client, buildCheckRequest({ service: 'orders', method: 'POST', path: `/orders/${i}/refund`, headers: { traceparent: traceparent(newTrace()), authorization: `Bearer ${token}` } }), 5000);
    const elapsed = performance.now() - started;
    expect(allowed.status?.code).toBe(0);
    expect(denied.status?.code).toBe(7);
    expect(elapsed, 'two Checks, in ms').toBeLessThan(1000);
  }
}

async function stopsPromptly(served: Served): Promise<void> {
  const started = performance.now();
  expect(await served.keycard.stop()).toBe(0);
  // The export timeout (2s) and a second at most, not a hang.
  expect(performance.now() - started).toBeLessThan(6000);
}

beforeAll(async () => {
  key = await makeKey('ES256');
});

describe('a black-holed collector (accepts, never answers)', () => {
  let hole: Awaited<ReturnType<typeof blackHole>>;
  let served: Served;

  beforeAll(async () => {
    hole = await blackHole();
  });

  afterAll(async () => {
    served?.client.close();
    await served?.keycard.stop();
    served?.workspace.remove();
    for (const socket of hole.sockets) socket.destroy();
    await new Promise<void>((resolve) => hole.server.close(() => resolve()));
  });

  for (const protocol of ['http/protobuf', 'grpc'] as const) {
    it(`${protocol}: Checks still answer normally and promptly; the overflowing spans are counted`, async () => {
      served = await serveTracingTo(`http://127.0.0.1:${hole.port}`, protocol);
      await checksAnswerPromptly(served);
      expect(await dropped(served, 'queue_full')).toBeGreaterThan(0);
      served.client.close();
      await stopsPromptly(served);
      served.workspace.remove();
    });
  }
});

describe('a collector port nobody listens on', () => {
  let served: Served;

  beforeAll(async () => {
    served = await serveTracingTo(`http://127.0.0.1:${await closedPort()}`, 'http/protobuf');
  });

  afterAll(async () => {
    served?.client.close();
    await served?.keycard.stop();
    served?.workspace.remove();
  });

  it('Checks still answer normally and promptly', async () => {
    await checksAnswerPromptly(served);
    expect(await dropped(served, 'queue_full')).toBeGreaterThan(0);
  });

  it('counts the failed exports and says so once in the log', async () => {
    const deadline = Date.now() + 15_000;
    while ((await dropped(served, 'export_failed')) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await dropped(served, 'export_failed')).toBeGreaterThan(0);
    const warnings = served.keycard.stderr().split('\n').filter((line) => line.includes('trace export failing'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`"endpoint":"http://127.0.0.1:`);
  });

  it('stops promptly all the same', async () => {
    served.client.close();
    await stopsPromptly(served);
  });
});
