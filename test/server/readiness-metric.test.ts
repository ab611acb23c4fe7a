// keycard_ready on /metrics says what /readyz says (the alert KeycardNotReady reads it): from the
// admin server, next to the registry's metrics; and from a real keycard that started with broken
// policies and becomes ready once they are fixed.
import { Counter, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminServer, type Readiness } from '../../src/server/admin-server.js';
import { withReadinessMetric } from '../../src/server/readiness-metric.js';
import { launchKeycard, type LaunchedKeycard } from '../helpers/keycard-process.js';
import { jwks, makeKey } from '../helpers/keys.js';
import { eventually } from '../helpers/redis-store.js';
import { ORDERS_POLICY, SEED, settingsYaml } from '../helpers/workspace.js';

const READY = /^keycard_ready (\d)$/m;

describe('the admin server', () => {
  it('adds keycard_ready (1 or 0, as /readyz answers 200 or 503) to the registry metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'some_total', help: 'a counter', registers: [registry] }).inc(3);
    let readiness: Readiness = { ready: false, problems: ['policies not loaded'] };
    const admin = new AdminServer({ listen: { host: '127.0.0.1', port: 0 }, registry, readiness: () => readiness });
    const port = await admin.start();
    try {
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const notReady = await scrape();
      expect(notReady).toContain('some_total 3\n');
      expect(READY.exec(notReady)?.[1]).toBe('0');
      expect(notReady).toContain('# TYPE keycard_ready gauge\n');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);

      readiness = { ready: true, problems: [], warnings: ['shadow policy set: not loaded'] };
      expect(READY.exec(await scrape())?.[1]).toBe('1');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      await admin.stop();
    }
  });

  it('starts the gauge on a line of its own', () => {
    expect(withReadinessMetric('a 1', true)).toMatch(/^a 1\n# HELP keycard_ready /);
    expect(withReadinessMetric('', false)).toMatch(/^# HELP keycard_ready [^\n]+\n# TYPE keycard_ready gauge\nkeycard_ready 0\n$/);
  });
});

describe('a keycard started with a broken policy', () => {
  let launched: LaunchedKeycard | undefined;
  afterAll(async () => {
    await launched?.keycard.stop();
    launched?.workspace.remove();
  });

  it('reports keycard_ready 0 until the policy is fixed, then 1', async () => {
    const key = await makeKey();
    launched = await launchKeycard({ 'keycard.yaml': settingsYaml(), 'jwks.json': jwks(key), 'seed.yaml': SEED, 'policies/orders.yaml': 'service: orders\nrules: [{ id: x, effect: maybe }]\n' });
    const scrape = async () => READY.exec(await (await fetch(`${launched!.keycard.adminUrl}/metrics`)).text())?.[1];
    expect((await fetch(`${launched.keycard.adminUrl}/readyz`)).status).toBe(503);
    expect(await scrape()).toBe('0');
    launched.workspace.write('policies/orders.yaml', ORDERS_POLICY);
    await eventually(async () => (await scrape()) === '1', 10_000, 'keycard_ready 1 after the fix');
    expect((await fetch(`${launched.keycard.adminUrl}/readyz`)).status).toBe(200);
  });
});
