// Hostile policy files on hot reload: whatever lands in the policy directory, keycard keeps the
// last good set and keeps serving. (The loader's properties are in test/properties.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml } from '../helpers/workspace.js';

/** 9^5 = 59,049 strings from five lines: the "billion laughs" of YAML aliases. */
const ALIAS_BOMB = `service: bomb
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
hosts: [*d,*d,*d,*d,*d,*d,*d,*d,*d]
`;

let served: ServedKeycard;

beforeAll(async () => {
  served = await serveKeycard(settingsYaml().replace('policies: { dir: policies }', 'policies: { dir: policies, watch: true }'), {
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
  });
});

afterAll(() => served?.close());

/** Reloads counted so far with `result`; -1 while the admin port does not answer. */
async function reloads(result: 'ok' | 'error'): Promise<number> {
  const text = await served.metrics().catch(() => undefined);
  if (text === undefined) return -1;
  const match = new RegExp(`keycard_policy_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text);
  return Number(match?.[1] ?? 0);
}

async function until(condition: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('an alias-bomb policy file is a reload error, not a crash; the last good set stays', async () => {
  served.workspace.write('policies/bomb.yaml', ALIAS_BOMB);
  // The reload error is counted, then logged: wait for the log line, which names the cause.
  await until(async () => served.keycard.process.exitCode !== null || /Excessive alias count/.test(served.keycard.stderr()));
  expect(served.keycard.process.exitCode).toBeNull();
  expect(await reloads('error')).toBeGreaterThanOrEqual(1);
  const response = await served.ask({ service: 'orders', path: '/orders/42' }, 'alice');
  expect(response.status?.code).toBe(0);
});

it('a policy file of deeply nested brackets is a reload error too', async () => {
  const before = await reloads('error');
  served.workspace.write('policies/bomb.yaml', `service: deep\nrules: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
  await until(async () => served.keycard.process.exitCode !== null || (await reloads('error')) > before);
  expect(served.keycard.process.exitCode).toBeNull();
  const response = await served.ask({ service: 'orders', path: '/orders/42' }, 'alice');
  expect(response.status?.code).toBe(0);
});
