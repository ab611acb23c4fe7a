// A real keycard process whose orders policy matches the operations and permissions of the
// service's OpenAPI document, kept outside the policy directory: editing the document reloads the
// policies (a changed path moves what the rule allows), and a broken edit keeps the last good set.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { responseHeader, serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { SEED, settingsYaml } from '../helpers/workspace.js';

const api = (ordersPath: string) => `openapi: 3.0.3
info: { title: Orders, version: "1" }
paths:
  ${ordersPath}:
    parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
    get: { operationId: getOrder, x-keycard-permission: orders.read, responses: { "200": { description: the order } } }
`;

const POLICY = `service: orders
api: { openapi: ../openapi/orders.yaml }
authentication: { issuers: [test-idp] }
rules:
  - { id: read, effect: allow, match: { operations: [getOrder] }, when: [{ role: customer }] }
  - { id: readers, effect: allow, match: { permissions: [orders.read] }, when: [{ role: support }] }
forward: { permissionsHeader: true }
`;

let served: ServedKeycard;

beforeAll(async () => {
  served = await serveKeycard(settingsYaml().replace('policies: { dir: policies }', 'policies: { dir: policies, watch: true }'), {
    'seed.yaml': SEED,
    'policies/orders.yaml': POLICY,
    'openapi/orders.yaml': api('/orders/{id}'),
  });
});

afterAll(() => served?.close());

/** Reloads counted so far with `result`. */
async function reloads(result: 'ok' | 'error'): Promise<number> {
  const match = new RegExp(`keycard_policy_reloads_total\\{result="${result}"\\} (\\d+)`).exec(await served.metrics());
  return Number(match?.[1] ?? 0);
}

async function until(condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const status = async (path: string, subject = 'alice') => (await served.ask({ service: 'orders', method: 'GET', path }, subject)).status?.code;

it('allows the operation at the path the document gives it, and names its permission in the header', async () => {
  const response = await served.ask({ service: 'orders', method: 'GET', path: '/orders/42' }, 'sam');
  expect(response.status?.code).toBe(0);
  expect(responseHeader(response, 'x-keycard-permissions')).toBe('orders.read');
  expect(await status('/orders/42')).toBe(0);
  expect(await status('/v2/orders/42')).toBe(7);
});

it('reloads when the document (outside the policy directory) changes: the rule follows the operation', async () => {
  const before = await reloads('ok');
  served.workspace.write('openapi/orders.yaml', api('/v2/orders/{id}'));
  await until(async () => (await reloads('ok')) > before && (await status('/v2/orders/42')) === 0);
  expect(await status('/orders/42')).toBe(7);
  expect(await status('/v2/orders/42', 'sam')).toBe(0);
});

it('keeps the last good policies when the document breaks, and logs where', async () => {
  const before = await reloads('error');
  served.workspace.write('openapi/orders.yaml', api('/v2/orders/{id}').replace('{ description: the order }', '{}'));
  await until(async () => (await reloads('error')) > before);
  await until(async () => /openapi\/orders\.yaml:6:\d+ \[invalid_api_description\] \/paths\/~1v2~1orders~1\{id\}\/get\/responses\/200: must have required property 'description'/.test(served.keycard.stderr()));
  expect(served.keycard.process.exitCode).toBeNull();
  expect(await status('/v2/orders/42')).toBe(0);
  expect(await status('/orders/42')).toBe(7);
});
