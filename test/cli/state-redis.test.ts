// The built CLI against a shared Redis store (a private redis-server on a free port, never 6379,
// never flushed) while a keycard process serves from the same store: a token revoked with
// `keycard revoke token`, a role removed with `keycard roles revoke` and a tuple added or removed
// with `keycard tuples` take effect in the running server right away, and every change is in the
// audit log with the actor.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { runCli, startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ORDER_RELATIONS_SETTINGS } from '../helpers/relations.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { TRACKING_POLICY } from './state-fixture.js';

/** How long a change may take to reach the running server: far below any cache TTL. */
const PROPAGATION_MS = 2_000;

let redis: RedisServer;
let workspace: Workspace;
let key: TestKey;
let config: string;
let server: KeycardProcess;
let client: AuthorizationClient;

beforeAll(async () => {
  redis = await RedisServer.start();
  key = await makeKey('ES256');
  workspace = new Workspace().writeAll({
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
    'policies/tracking.yaml': TRACKING_POLICY,
  });
  const settings = settingsYaml(ORDER_RELATIONS_SETTINGS).replace('store: { type: memory, seedFile: seed.yaml }', `store: { type: redis, url: "${redis.url()}", seedFile: seed.yaml }`);
  config = workspace.write('keycard.yaml', settings);
  server = await startKeycard(config);
  client = createCheckClient(server.grpcAddress);
}, 30_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  await redis?.remove();
  workspace?.remove();
});

const keycard = (...args: string[]) => runCli([...args, '--config', config, '--actor', 'ops-oncall']);

async function ask(spec: HttpRequestSpec, token: string): Promise<CheckResponse__Output> {
  return check(client, buildCheckRequest({ ...spec, headers: { authorization: `Bearer ${token}` } }));
}

function denyReason(response: CheckResponse__Output): string | undefined {
  const body = response.denied_response?.body;
  return body ? (JSON.parse(body) as { reason: string }).reason : undefined;
}

/** Asks until `done` holds (or PROPAGATION_MS passes); resolves with the last answer and how long it took. */
async function askUntil(spec: HttpRequestSpec, token: string, done: (response: CheckResponse__Output) => boolean): Promise<{ response: CheckResponse__Output; ms: number }> {
  const started = Date.now();
  for (;;) {
    const response = await ask(spec, token);
    if (done(response) || Date.now() - started > PROPAGATION_MS) return { response, ms: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function stateChanges(): Record<string, unknown>[] {
  const file = workspace.path('audit.log');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  return lines.filter((line) => line.includes('"type":"state_change"')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const READ: HttpRequestSpec = { method: 'GET', host: 'orders.shop.svc', path: '/orders/42', service: 'orders' };
const REFUND: HttpRequestSpec = { method: 'POST', host: 'orders.shop.svc', path: '/orders/42/refund', service: 'orders' };

describe('state commands against a running keycard on a Redis store', () => {
  it('denies a token right after `keycard revoke token JTI`, and only that token', async () => {
    const revoked = await signToken(key, { sub: 'alice', claims: { jti: 'jti-live-1' } });
    const other = await signToken(key, { sub: 'alice', claims: { jti: 'jti-live-2' } });
    // The first answers may wait for keycard's Redis connection.
    expect((await askUntil(READ, revoked, (response) => response.status?.code === 0)).response.status?.code).toBe(0);

    const cli = await keycard('revoke', 'token', 'jti-live-1');
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    expect(cli.stdout).toMatch(/^revoked token jti-live-1 \(the entry is kept until \S+Z\)\n$/);

    const { response, ms } = await askUntil(READ, revoked, (answer) => answer.status?.code !== 0);
    expect(response.status?.code).toBe(16);
    expect(denyReason(response)).toBe('token_revoked');
    expect(ms).toBeLessThan(PROPAGATION_MS);
    expect((await ask(READ, other)).status?.code).toBe(0);

    expect((await keycard('revoke', 'list', '--format', 'json')).stdout).toContain('"id": "jti-live-1"');
  });

  it('takes a role away from the running keycard with `keycard roles revoke`, and gives it back with grant', async () => {
    const token = await signToken(key, { sub: 'fiona' });
    expect((await askUntil(REFUND, token, (response) => response.status?.code === 0)).response.status?.code).toBe(0);

    expect(await keycard('roles', 'revoke', 'fiona', 'finance', '--service', 'orders')).toEqual({
      code: 0,
      stdout: 'revoked role finance from fiona for service orders\n',
      stderr: '',
    });
    const removed = await askUntil(REFUND, token, (response) => response.status?.code !== 0);
    expect(denyReason(removed.response)).toBe('no_matching_rule');
    expect(removed.ms).toBeLessThan(PROPAGATION_MS);

    expect((await keycard('roles', 'grant', 'fiona', 'finance', '--service', 'orders')).code).toBe(0);
    const granted = await askUntil(REFUND, token, (response) => response.status?.code === 0);
    expect(granted.response.status?.code).toBe(0);
    expect(granted.ms).toBeLessThan(PROPAGATION_MS);
  });

  it('lets the running keycard grant by a tuple added with `keycard tuples add`, until `tuples remove`', async () => {
    const token = await signToken(key, { sub: 'dave' });
    const track: HttpRequestSpec = { method: 'GET', host: 'tracking', path: '/orders/77', service: 'tracking' };
    expect(denyReason(await ask(track, token))).toBe('no_matching_rule');

    expect(await keycard('tuples', 'add', 'order:77#owner@user:dave')).toMatchObject({ code: 0, stdout: 'added order:77#owner@user:dave\n' });
    const added = await askUntil(track, token, (response) => response.status?.code === 0);
    expect(added.response.status?.code).toBe(0);
    expect(added.ms).toBeLessThan(PROPAGATION_MS);
    const checked = await keycard('tuples', 'check', 'order:77#viewer@user:dave');
    expect(checked).toMatchObject({ code: 0, stdout: 'yes: user:dave is viewer of order:77\nchain: user:dave → order:77#owner → order:77#viewer\n' });

    expect((await keycard('tuples', 'remove', 'order:77#owner@user:dave')).code).toBe(0);
    const removed = await askUntil(track, token, (response) => response.status?.code !== 0);
    expect(denyReason(removed.response)).toBe('no_matching_rule');
    expect(removed.ms).toBeLessThan(PROPAGATION_MS);
  });

  it('records every change in the audit log with the actor and the store', async () => {
    const changes = stateChanges();
    expect(changes.map((change) => change.action)).toEqual(['revoke.token', 'roles.revoke', 'roles.grant', 'tuples.add', 'tuples.remove']);
    for (const change of changes) expect(change).toMatchObject({ type: 'state_change', actor: 'ops-oncall', store: 'redis' });
    expect(changes[0]!.target).toMatchObject({ kind: 'token', id: 'jti-live-1' });
    expect(changes[1]!.target).toEqual({ subject: 'fiona', role: 'finance', service: 'orders' });
    expect(changes[3]!.target).toEqual({ object: 'order:77', relation: 'owner', subject: 'user:dave' });
  });
});
