// Start-up with broken policies, hot reload (keeping the last good set) and graceful shutdown,
// each against a real keycard process.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import { jwks, makeKey, signToken } from '../helpers/keys.js';
import { launchKeycard, type KeycardProcess, type LaunchedKeycard } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml } from '../helpers/workspace.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function launch(files: Record<string, string | object>, settings = settingsYaml()): Promise<LaunchedKeycard> {
  const launched = await launchKeycard({ 'keycard.yaml': settings, 'seed.yaml': SEED, ...files });
  cleanups.push(() => launched.workspace.remove(), () => launched.keycard.stop());
  return launched;
}

async function decide(keycard: KeycardProcess, path: string, headers: Record<string, string> = {}) {
  const client = createCheckClient(keycard.grpcAddress);
  try {
    const response = await check(client, buildCheckRequest({ service: 'orders', path, headers }));
    return { code: response.status?.code, reason: JSON.parse(response.denied_response?.body || '{}').reason as string | undefined };
  } finally {
    client.close();
  }
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('policy loading at start-up', () => {
  it('serves but is not ready, and says why, when the policies are broken', async () => {
    const key = await makeKey();
    const { keycard } = await launch({
      'jwks.json': jwks(key),
      'policies/orders.yaml': ORDERS_POLICY.replace('effect: deny', 'effect: forbid'),
    });
    const readyz = await fetch(`${keycard.adminUrl}/readyz`);
    expect(readyz.status).toBe(503);
    const body = (await readyz.json()) as { ready: boolean; problems: string[] };
    expect(body.ready).toBe(false);
    expect(body.problems.join('\n')).toMatch(/orders\.yaml:\d+:\d+ \[invalid_value\] rules\[3\]\.effect/);
    expect(await decide(keycard, '/healthz')).toEqual({ code: 14, reason: 'not_ready' });
    expect(keycard.stderr()).toContain('policies failed to load; not ready');
  });

  it('is not ready while an issuer has no keys', async () => {
    const { keycard } = await launch({ 'jwks.json': 'not json', 'policies/orders.yaml': ORDERS_POLICY });
    const readyz = await fetch(`${keycard.adminUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(JSON.stringify(await readyz.json())).toContain('issuer test-idp: signing keys not loaded');
    const token = await signToken(await makeKey());
    expect(await decide(keycard, '/orders/1', { authorization: `Bearer ${token}` })).toEqual({ code: 14, reason: 'jwks_unavailable' });
  });
});

describe('hot reload', () => {
  it('swaps in a changed policy and keeps the last good one when a change is broken', async () => {
    const key = await makeKey();
    const { workspace, keycard } = await launch({ 'jwks.json': jwks(key), 'policies/orders.yaml': ORDERS_POLICY });
    const token = `Bearer ${await signToken(key, { sub: 'alice' })}`;
    expect((await decide(keycard, '/reports', { authorization: token })).reason).toBe('no_matching_rule');

    const withReports = `${ORDERS_POLICY}  - { id: reports, effect: allow, match: { paths: [/reports] }, when: [{ role: customer }] }\n`;
    workspace.write('policies/orders.yaml', withReports);
    expect((await until(() => decide(keycard, '/reports', { authorization: token }), (d) => d.code === 0)).code).toBe(0);

    workspace.write('policies/orders.yaml', `${withReports}  - { id: broken, effect: allow, match: { paths: [nope] } }\n`);
    const metrics = await until(
      async () => (await fetch(`${keycard.adminUrl}/metrics`)).text(),
      (text) => /keycard_policy_reloads_total\{result="error"\} [1-9]/.test(text),
    );
    expect(metrics).toMatch(/keycard_policy_reloads_total\{result="error"\} [1-9]/);
    expect(keycard.stderr()).toContain('keeping the last good policies');
    expect(keycard.stderr()).toContain('[invalid_path_template] rules[6].match.paths[0]');
    expect((await decide(keycard, '/reports', { authorization: token })).code).toBe(0);
    expect((await fetch(`${keycard.adminUrl}/readyz`)).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight Check after SIGTERM and exits 0', async () => {
    const oldKey = await makeKey();
    const newKey = await makeKey();
    // A JWKS endpoint that answers the first load at once and the refresh (for newKey's kid) slowly,
    // so that a Check is still in flight when the signal arrives.
    let requests = 0;
    let refreshStarted!: () => void;
    const refreshing = new Promise<void>((resolve) => (refreshStarted = resolve));
    const jwksServer: Server = createServer((_request, response) => {
      requests++;
      const body = JSON.stringify(requests === 1 ? jwks(oldKey) : jwks(oldKey, newKey));
      if (requests === 1) return response.end(body);
      refreshStarted();
      setTimeout(() => response.end(body), 700);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => jwksServer.close(resolve)));
    const uri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    const settings = settingsYaml().replace('jwksFile: jwks.json', `jwksUri: "${uri}"`);
    const { keycard } = await launch({ 'policies/orders.yaml': ORDERS_POLICY }, settings);

    const token = await signToken(newKey, { sub: 'alice' });
    const inFlight = decide(keycard, '/orders/1', { authorization: `Bearer ${token}` });
    await refreshing;
    const exited = keycard.stop('SIGTERM');
    expect(await inFlight).toEqual({ code: 0, reason: undefined });
    expect(await exited).toBe(0);
  });
});
