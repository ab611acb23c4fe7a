// `keycard serve --workers 2` as real processes: both workers answer Checks on the one gRPC port,
// the admin port adds their metrics up, a killed worker comes back, and SIGTERM lets in-flight
// Checks finish before the primary exits 0.
import { credentials } from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { childPids, establishedConnections } from './proc.js';

/** A client on a connection of its own (grpc-js otherwise shares one per address). */
function ownConnection(address: string): AuthorizationClient {
  const Client = authorizationService();
  return new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

async function metric(keycard: KeycardProcess, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${keycard.adminUrl}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ALLOWED = /^keycard_decisions_total\{service="orders",decision="allow",reason="allowed"\} (\d+)$/m;

describe('two workers', () => {
  let workspace: Workspace;
  let keycard: KeycardProcess;
  let key: TestKey;
  beforeAll(async () => {
    key = await makeKey();
    const settings = settingsYaml('http: { listen: 127.0.0.1:0 }\n');
    workspace = new Workspace().writeAll({ 'keycard.yaml': settings, 'jwks.json': jwks(key), 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY });
    keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
  });
  afterAll(async () => {
    await keycard?.stop('SIGKILL');
    workspace.remove();
  });

  it('answer Checks on one port, and the admin port adds up their decisions', async () => {
    const workers = childPids(keycard.process.pid!);
    expect(workers).toHaveLength(2);
    const request = buildCheckRequest({ service: 'orders', path: '/orders/7', headers: { authorization: `Bearer ${await signToken(key, { sub: 'alice' })}` } });
    const clients = Array.from({ length: 4 }, () => ownConnection(keycard.grpcAddress));
    try {
      for (const client of clients) {
        for (let i = 0; i < 3; i++) expect((await check(client, request)).status?.code).toBe(0);
      }
      // The primary hands connections to the workers in turn: each holds some of the four.
      const held = workers.map((pid) => establishedConnections(pid, keycard.grpcPort));
      expect(held.map((count) => count > 0)).toEqual([true, true]);
      expect(held[0]! + held[1]!).toBe(4);
    } finally {
      for (const client of clients) client.close();
    }
    expect(await metric(keycard, ALLOWED)).toBe(12); // this test runs first: only its Checks
    expect(await metric(keycard, /^keycard_token_cache_misses_total (\d+)$/m)).toBe(2); // one verification per worker
    expect(await metric(keycard, /^keycard_workers\{state="listening"\} (\d+)$/m)).toBe(2);
    expect((await fetch(`${keycard.adminUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${keycard.adminUrl}/healthz`)).status).toBe(200);
  });

  it('share the HTTP check listener too', async () => {
    const token = await signToken(key, { sub: 'alice' });
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${keycard.httpUrl}/service/orders/orders/7`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(answers[0]!.headers.get('x-keycard-subject')).toBe('alice');
  });

  it('restart a worker that was killed', async () => {
    const [victim, survivor] = childPids(keycard.process.pid!);
    process.kill(victim!, 'SIGKILL');
    await until(async () => (await metric(keycard, /^keycard_workers\{state="listening"\} (\d+)$/m)) === 2 && childPids(keycard.process.pid!).length === 2);
    const now = childPids(keycard.process.pid!);
    expect(now).toContain(survivor);
    expect(now).not.toContain(victim);
    expect(await metric(keycard, /^keycard_worker_restarts_total (\d+)$/m)).toBe(1);
    expect(keycard.stderr()).toContain('worker exited unexpectedly; restarting it');
    const client = ownConnection(keycard.grpcAddress);
    try {
      expect((await check(client, buildCheckRequest({ service: 'orders', path: '/healthz' }))).status?.code).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe('two workers on a Unix socket', () => {
  it('keep the socket file while workers start and restart', async () => {
    const workspace = new Workspace().writeAll({ 'keycard.yaml': settingsYaml(), 'jwks.json': jwks(await makeKey()), 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY });
    const socket = workspace.path('keycard.sock');
    const keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2', '--grpc-listen', `unix:${socket}`]);
    const healthz = buildCheckRequest({ service: 'orders', path: '/healthz' });
    const askOverSocket = async () => {
      const client = ownConnection(`unix:${socket}`);
      try {
        return (await check(client, healthz)).status?.code;
      } finally {
        client.close();
      }
    };
    try {
      expect(await askOverSocket()).toBe(0);
      // A restarted worker must not take the primary's socket file for a stale one.
      process.kill(childPids(keycard.process.pid!)[0]!, 'SIGKILL');
      await until(async () => (await metric(keycard, /^keycard_worker_restarts_total (\d+)$/m)) === 1 && (await metric(keycard, /^keycard_workers\{state="listening"\} (\d+)$/m)) === 2);
      for (let i = 0; i < 4; i++) expect(await askOverSocket()).toBe(0);
    } finally {
      await keycard.stop();
      workspace.remove();
    }
  });
});

describe('SIGTERM with two workers', () => {
  it('lets an in-flight Check finish, then the primary exits 0', async () => {
    const oldKey = await makeKey();
    const newKey = await makeKey();
    // The JWKS endpoint answers the workers' first loads at once; once `slow`, it answers after
    // 700 ms with newKey too, so a Check with newKey's token is in flight when the signal comes.
    let slow = false;
    let refreshStarted!: () => void;
    const refreshing = new Promise<void>((resolve) => (refreshStarted = resolve));
    const jwksServer: Server = createServer((_request, response) => {
      if (!slow) return response.end(JSON.stringify(jwks(oldKey)));
      refreshStarted();
      setTimeout(() => response.end(JSON.stringify(jwks(oldKey, newKey))), 700);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    const workspace = new Workspace().writeAll({
      'keycard.yaml': settingsYaml().replace('jwksFile: jwks.json', `jwksUri: "${uri}"`),
      'seed.yaml': SEED,
      'policies/orders.yaml': ORDERS_POLICY,
    });
    const keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
    const client = ownConnection(keycard.grpcAddress);
    try {
      slow = true;
      const token = await signToken(newKey, { sub: 'alice' });
      const inFlight = check(client, buildCheckRequest({ service: 'orders', path: '/orders/1', headers: { authorization: `Bearer ${token}` } }));
      await refreshing;
      const exited = keycard.stop('SIGTERM');
      expect((await inFlight).status?.code).toBe(0);
      expect(await exited).toBe(0);
      expect(childPids(keycard.process.pid!)).toEqual([]);
    } finally {
      client.close();
      await keycard.stop('SIGKILL');
      await new Promise((resolve) => jwksServer.close(resolve));
      workspace.remove();
    }
  });
});
