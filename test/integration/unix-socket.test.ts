// keycard's gRPC listener on a Unix domain socket, as envoy/sidecar-uds.yaml expects.
import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCheckRequest, check } from '../../src/protocol/check-client.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { jwks, makeKey } from '../helpers/keys.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
let keycard: KeycardProcess;

beforeAll(async () => {
  workspace = new Workspace();
  workspace.writeAll({ 'keycard.yaml': settingsYaml(), 'jwks.json': jwks(await makeKey()), 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY });
  // A socket file left by a process that died must not stop the bind.
  const socket = workspace.path('keycard.sock');
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.exit(0))`]);
  expect(lstatSync(socket).isSocket()).toBe(true);
  keycard = await startKeycard(workspace.path('keycard.yaml'), ['--grpc-listen', `unix:${workspace.path('keycard.sock')}`]);
});

afterAll(async () => {
  await keycard?.stop();
  workspace?.remove();
});

it('answers Check over the socket', async () => {
  const Client = authorizationService();
  const client = new Client(`unix:${workspace.path('keycard.sock')}`, credentials.createInsecure());
  try {
    const allowed = await check(client, buildCheckRequest({ service: 'orders', path: '/healthz' }));
    expect(allowed.status?.code).toBe(0);
    const denied = await check(client, buildCheckRequest({ service: 'orders', path: '/orders/1' }));
    expect(denied.status?.code).toBe(16);
  } finally {
    client.close();
  }
});
