// Offline tools (keycard check, test, replay) build a Keycard to decide in-process and serve no
// traced request: they never build a tracer, even when the settings' `tracing:` key and the
// OTEL_* variables both turn tracing on. Each command runs as a real process (dist/cli.js) with
// a preloaded probe that writes, at exit, which OpenTelemetry packages were loaded; the same
// settings and environment in a serving Keycard load the SDK, so the probe can tell.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/keycard-process.js';
import { jwks, makeKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

const APP = fileURLToPath(new URL('../../dist/app.js', import.meta.url));
const SETTINGS = fileURLToPath(new URL('../../dist/config/settings.js', import.meta.url));

/** CommonJS, preloaded with -r: the SDK is loaded through createRequire, so it lands in require.cache. */
const PROBE = `
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  const loaded = new Set(Object.keys(require.cache).map((path) => /node_modules\\/(@opentelemetry\\/[^/]+)/.exec(path)?.[1]).filter(Boolean));
  writeFileSync(process.env.PROBE_OUT, JSON.stringify([...loaded].sort()));
});
`;

const CASES = `
service: orders
cases:
  - name: support reads an order
    request: { method: GET, path: /orders/7 }
    caller: { subject: sam }
    expect: { decision: allow }
`;

let workspace: Workspace;
let config: string;

beforeAll(async () => {
  workspace = new Workspace().writeAll({
    // The settings turn tracing on; so does the environment (below).
    'keycard.yaml': settingsYaml('tracing: { endpoint: "http://127.0.0.1:1", scheduledDelay: 20ms }\n'),
    'jwks.json': jwks(await makeKey('ES256')),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
    'policies/orders.test.yaml': CASES,
    'audit-empty.jsonl': '',
    'probe.cjs': PROBE,
  });
  config = workspace.path('keycard.yaml');
});
afterAll(() => workspace?.remove());

/** Runs node with the probe and `args`, tracing switched on by the environment too; the OpenTelemetry packages it loaded. */
function otelPackagesLoaded(args: readonly string[]): { code: number | null; stderr: string; loaded: string[] } {
  const out = workspace.path(`probe-${Math.random().toString(36).slice(2)}.json`);
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_'))),
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
    OTEL_TRACES_EXPORTER: 'otlp',
    PROBE_OUT: out,
  };
  const run = spawnSync(process.execPath, ['-r', workspace.path('probe.cjs'), ...args], { encoding: 'utf8', env, cwd: workspace.dir, timeout: 30_000 });
  return { code: run.status, stderr: run.stderr, loaded: JSON.parse(readFileSync(out, 'utf8')) as string[] };
}

const SDK_PACKAGES = ['@opentelemetry/core', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto'];
const beyondApi = (loaded: string[]) => loaded.filter((name) => name !== '@opentelemetry/api');

describe('with tracing on in the settings and the environment', () => {
  it('a serving Keycard loads the SDK and its exporter (the probe can tell)', () => {
    const script = `const { Keycard } = await import(${JSON.stringify(APP)}); const { loadSettings } = await import(${JSON.stringify(SETTINGS)}); new Keycard(loadSettings(${JSON.stringify(config)}));`;
    const run = otelPackagesLoaded(['--input-type=module', '-e', script]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.loaded).toEqual(expect.arrayContaining(SDK_PACKAGES));
  });

  it('keycard check builds no tracer', () => {
    const run = otelPackagesLoaded([CLI, 'check', '--config', config, '--service', 'orders', '--path', '/orders/7', '--subject', 'sam']);
    expect(run.code, run.stderr).toBe(0);
    expect(beyondApi(run.loaded)).toEqual([]);
  });

  it('keycard test builds no tracer', () => {
    const run = otelPackagesLoaded([CLI, 'test', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(beyondApi(run.loaded)).toEqual([]);
  });

  it('keycard replay builds no tracer', () => {
    const run = otelPackagesLoaded([CLI, 'replay', '--config', config, '--audit', workspace.path('audit-empty.jsonl'), '--policies', workspace.path('policies')]);
    expect(run.code, run.stderr).toBe(0);
    expect(beyondApi(run.loaded)).toEqual([]);
  });
});
