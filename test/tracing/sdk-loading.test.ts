// Tracing off costs nothing at start either: a keycard built without tracing never loads the
// OpenTelemetry SDK (core, propagators, resources, trace SDK, exporters), only the small API
// package. Checked in a fresh process (dist/), whose module cache is then inspected; the same
// keycard with tracing on loads it, so the check can fail.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as semconv from '@opentelemetry/semantic-conventions';
import { afterAll, describe, expect, it } from 'vitest';
import * as attributes from '../../src/tracing/attributes.js';
import { Workspace } from '../helpers/workspace.js';

const APP = fileURLToPath(new URL('../../dist/app.js', import.meta.url));
const SETTINGS = fileURLToPath(new URL('../../dist/config/settings.js', import.meta.url));

const workspace = new Workspace().writeAll({ 'policies/.keep': '' });
afterAll(() => workspace.remove());

/** The OpenTelemetry packages in the module cache after building a Keycard from `settingsYaml`. */
function otelPackagesLoaded(settingsYaml: string): string[] {
  const file = workspace.write(`keycard-${Math.random().toString(36).slice(2)}.yaml`, `policies: { dir: policies, watch: false }\nlog: { level: silent }\naudit: { output: "off" }\n${settingsYaml}`);
  const script = `
    import { createRequire } from 'node:module';
    const { Keycard } = await import(${JSON.stringify(APP)});
    const { loadSettings } = await import(${JSON.stringify(SETTINGS)});
    new Keycard(loadSettings(${JSON.stringify(file)}));
    const loaded = new Set(Object.keys(createRequire(import.meta.url).cache).map((path) => /node_modules\\/(@opentelemetry\\/[^/]+)/.exec(path)?.[1]).filter(Boolean));
    console.log(JSON.stringify([...loaded].sort()));
  `;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env, timeout: 20_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as string[];
}

describe('loading the OpenTelemetry SDK', () => {
  it('does not happen without tracing', () => {
    expect(otelPackagesLoaded('').filter((name) => name !== '@opentelemetry/api')).toEqual([]);
  });

  it('happens with tracing on (the check above can fail)', () => {
    expect(otelPackagesLoaded('tracing: { endpoint: "http://127.0.0.1:1" }')).toEqual(
      expect.arrayContaining(['@opentelemetry/core', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto']),
    );
  });
});

describe('attribute names written out in src/tracing/attributes.ts', () => {
  it.each(Object.entries(attributes).filter(([name]) => name in semconv))('%s is the semantic-convention name', (name, value) => {
    expect(value).toBe((semconv as Record<string, unknown>)[name]);
  });

  it('covers every ATTR_ constant there', () => {
    const checked = Object.keys(attributes).filter((name) => name in semconv);
    expect(checked.length).toBeGreaterThanOrEqual(12);
  });
});
