// The explorer in `keycard serve --workers 2` (real processes, dist/cli.js): the workers decide and
// send their records to the primary, which keeps the ring and serves the page; a hypothetical
// request is decided by a worker; masks agree across workers.
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { childPids, establishedConnections } from '../cluster/proc.js';
import { tokenParts } from './served.js';

/** A client on a connection of its own (grpc-js otherwise shares one per address), so both workers get some. */
function ownConnection(address: string): AuthorizationClient {
  const Client = authorizationService();
  return new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

interface Listed {
  latestSeq: number;
  masked: boolean;
  decisions: { id: string; subject?: string; requestPath: string; decision: string }[];
}

async function listed(keycard: KeycardProcess, query = ''): Promise<Listed> {
  return (await (await fetch(`${keycard.adminUrl}/explorer/api/decisions${query}`)).json()) as Listed;
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached in time; last value ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the explorer of a cluster', () => {
  let workspace: Workspace;
  let keycard: KeycardProcess;
  let key: TestKey;
  const tokens: string[] = [];
  beforeAll(async () => {
    key = await makeKey('RS256');
    workspace = new Workspace().writeAll({
      'keycard.yaml': settingsYaml('explorer: { enabled: true, capacity: 50, maskSubjects: true }\n'),
      'jwks.json': jwks(key),
      'seed.yaml': SEED,
      'policies/orders.yaml': ORDERS_POLICY,
    });
    keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
  });
  afterAll(async () => {
    await keycard?.stop('SIGKILL');
    workspace?.remove();
  });

  it("shows the workers' decisions on the primary's admin port, with subjects masked alike by every worker", async () => {
    const workers = childPids(keycard.process.pid!);
    expect(workers).toHaveLength(2);
    const clients = Array.from({ length: 4 }, () => ownConnection(keycard.grpcAddress));
    try {
      for (const [i, client] of clients.entries()) {
        const token = await signToken(key, { sub: 'alice' });
        tokens.push(token);
        const request = buildCheckRequest({ service: 'orders', path: `/orders/${i}`, headers: { authorization: `Bearer ${token}` } });
        expect((await check(client, request)).status?.code).toBe(0);
      }
      // Both workers decided some of the Checks.
      expect(workers.map((pid) => establishedConnections(pid, keycard.grpcPort) > 0)).toEqual([true, true]);
    } finally {
      for (const client of clients) client.close();
    }
    const body = await until(() => listed(keycard), (value) => value.decisions.length === 4);
    expect(body.masked).toBe(true);
    expect(body.decisions.map((record) => record.requestPath).sort()).toEqual(['/orders/0', '/orders/1', '/orders/2', '/orders/3']);
    const masks = new Set(body.decisions.map((record) => record.subject));
    expect(masks.size).toBe(1);
    expect([...masks][0]).toMatch(/^masked:[0-9a-f]{12}$/);
    expect((await listed(keycard, '?subject=alice')).decisions).toHaveLength(4);
    const text = JSON.stringify(body);
    expect(text).not.toContain('alice');
    for (const part of tokenParts(tokens)) expect(text).not.toContain(part);
  });

  it('explains a recorded decision and serves the page from the primary', async () => {
    const token = await signToken(key, { sub: 'alice' });
    tokens.push(token);
    const client = ownConnection(keycard.grpcAddress);
    try {
      const request = buildCheckRequest({ service: 'orders', method: 'POST', path: '/orders/9/refund', headers: { authorization: `Bearer ${token}` } });
      expect((await check(client, request)).status?.code).toBe(7);
    } finally {
      client.close();
    }
    const { decisions } = await until(() => listed(keycard, '?decision=deny'), (value) => value.decisions.length === 1);
    const explained = (await (await fetch(`${keycard.adminUrl}/explorer/api/decisions/${decisions[0]!.id}`)).json()) as { explanation: string[] };
    expect(explained.explanation.find((line) => line.startsWith('  refund'))).toMatch(/refund\s+allow\s+not applied: masked:[0-9a-f]{12} lacks role finance/);
    const page = await fetch(`${keycard.adminUrl}/explorer`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('has a worker decide a hypothetical request (the primary loads no policies)', async () => {
    const response = await fetch(`${keycard.adminUrl}/explorer/api/try`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', service: 'orders', path: '/orders/9/refund', subject: 'fiona' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { decision: string; rule: string; explanation: string[] };
    expect(body).toMatchObject({ decision: 'allow', rule: 'refund' });
    expect(body.explanation).toContain('roles     finance (from the store)');
    // Hypothetical requests are not decisions: nothing new in the ring.
    expect((await listed(keycard)).decisions).toHaveLength(5);
  });

  it('keeps the probes and the summed metrics as they were', async () => {
    expect((await fetch(`${keycard.adminUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${keycard.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^keycard_decisions_total\{service="orders",decision="allow",reason="allowed"\} 4$/m);
  });
});
