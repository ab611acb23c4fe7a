// The `tracing:` settings key and the OTEL_* variables: when tracing is on, which value wins, and
// the precise error a bad value gets (the settings key's path, or the variable's name).
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { resolveTracingConfig, type Environment } from '../../src/tracing/config.js';
import type { TracingSettings } from '../../src/tracing/settings.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

const workspaces: Workspace[] = [];
afterEach(() => {
  for (const workspace of workspaces.splice(0)) workspace.remove();
});

function load(tracing: string) {
  const workspace = new Workspace().writeAll({ 'keycard.yaml': `policies: { dir: policies }\n${tracing}\n`, 'policies/.keep': '' });
  workspaces.push(workspace);
  return () => loadSettings(workspace.path('keycard.yaml'));
}

const resolve = (settings: TracingSettings | undefined, env: Environment = {}) => resolveTracingConfig(settings, env);

describe('the tracing settings key', () => {
  it('is optional, and every key in it too', () => {
    expect(load('')().tracing).toBeUndefined();
    expect(load('tracing: {}')().tracing).toEqual({});
  });

  it('reads durations and the sampler', () => {
    const settings = load(`
tracing:
  endpoint: https://collector.example:4318
  protocol: grpc
  headers: { x-api-key: secret }
  serviceName: edge-authz
  sampler: { type: parentbased_traceidratio, ratio: 0.25 }
  maxQueueSize: 100
  maxExportBatchSize: 10
  scheduledDelay: 500ms
  exportTimeout: 3s
`)();
    expect(settings.tracing).toEqual({
      endpoint: 'https://collector.example:4318',
      protocol: 'grpc',
      headers: { 'x-api-key': 'secret' },
      serviceName: 'edge-authz',
      sampler: { type: 'parentbased_traceidratio', ratio: 0.25 },
      maxQueueSize: 100,
      maxExportBatchSize: 10,
      scheduledDelay: 500,
      exportTimeout: 3000,
    });
  });

  it.each([
    ['tracing: { protocol: http/json }', 'tracing.protocol'],
    ['tracing: { protocol: zipkin }', 'tracing.protocol'],
    ['tracing: { endpoint: "collector:4318" }', 'tracing.endpoint'],
    ['tracing: { endpoint: "ftp://collector/" }', 'tracing.endpoint'],
    ['tracing: { endpoint: "not a url" }', 'tracing.endpoint'],
    ['tracing: { sampler: { type: sometimes } }', 'tracing.sampler.type'],
    ['tracing: { sampler: { type: parentbased_traceidratio, ratio: 1.5 } }', 'tracing.sampler.ratio'],
    ['tracing: { sampler: { type: parentbased_always_on, ratio: 0.5 } }', 'tracing.sampler.ratio'],
    ['tracing: { maxQueueSize: 0 }', 'tracing.maxQueueSize'],
    ['tracing: { maxQueueSize: 10, maxExportBatchSize: 11 }', 'tracing.maxExportBatchSize'],
    ['tracing: { scheduledDelay: soon }', 'tracing.scheduledDelay'],
    ['tracing: { headers: { "bad header": x } }', 'tracing.headers.bad header'],
    ['tracing: { enable: true }', 'tracing.enable'],
  ])('%s is a ConfigError naming %s', (yaml, key) => {
    const error = configError(load(yaml));
    expect(error.issues.map((issue) => issue.key)).toContain(key);
    expect(error.issues[0]!.line).toBeGreaterThan(0);
  });
});

describe('whether tracing is on', () => {
  it('is off with neither settings nor OTEL_* variables', () => {
    expect(resolve(undefined, {})).toBeUndefined();
    expect(resolve(undefined, { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
  });

  it('is on with a tracing key, or an OTLP endpoint or exporter in the environment', () => {
    expect(resolve({})).toBeDefined();
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBeDefined();
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBeDefined();
    expect(resolve(undefined, { OTEL_TRACES_EXPORTER: 'otlp' })).toBeDefined();
  });

  it('is off, whatever else says so, with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none', () => {
    expect(resolve({ enabled: true }, { OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(resolve({ enabled: true }, { OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(resolve({}, { OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  it('is off with enabled: false, whatever the environment says', () => {
    expect(resolve({ enabled: false }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBeUndefined();
  });
});

describe('precedence: settings, then OTEL_* variables, then defaults', () => {
  it('defaults: http/protobuf to localhost:4318, parentbased_always_on, keycard, the batch sizes', () => {
    expect(resolve({})).toEqual({
      protocol: 'http/protobuf',
      url: 'http://localhost:4318/v1/traces',
      headers: {},
      serviceName: 'keycard',
      resourceAttributes: {},
      sampler: { type: 'parentbased_always_on', ratio: 1 },
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduledDelayMs: 5000,
      exportTimeoutMs: 10_000,
    });
    expect(resolve({ protocol: 'grpc' })?.url).toBe('http://localhost:4317/');
  });

  it('endpoints: a bare http/protobuf URL gets /v1/traces; the signal-specific variable is used as it is', () => {
    expect(resolve({ endpoint: 'http://collector:4318' })?.url).toBe('http://collector:4318/v1/traces');
    expect(resolve({ endpoint: 'http://collector:4318/custom/path' })?.url).toBe('http://collector:4318/custom/path');
    expect(resolve({ endpoint: 'http://collector:4317', protocol: 'grpc' })?.url).toBe('http://collector:4317/');
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base/' })?.url).toBe('http://c:4318/base/v1/traces');
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9999/in' })?.url).toBe('http://t:9999/in');
    expect(resolve({ endpoint: 'http://settings:4318' }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9999/in' })?.url).toBe('http://settings:4318/v1/traces');
  });

  it('protocol: settings, then the traces variable, then the generic one', () => {
    expect(resolve(undefined, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })?.protocol).toBe('grpc');
    expect(resolve(undefined, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })?.protocol).toBe('http/protobuf');
    expect(resolve({ protocol: 'http/protobuf' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })?.protocol).toBe('http/protobuf');
  });

  it('service name: settings, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, keycard', () => {
    const env = { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,k8s.pod.name=kc-0' };
    expect(resolve({ serviceName: 'from-settings' }, env)?.serviceName).toBe('from-settings');
    expect(resolve({}, env)?.serviceName).toBe('from-env');
    expect(resolve({}, { OTEL_RESOURCE_ATTRIBUTES: env.OTEL_RESOURCE_ATTRIBUTES })?.serviceName).toBe('from-resource');
    expect(resolve({}, env)?.resourceAttributes).toEqual({ 'service.name': 'from-resource', 'k8s.pod.name': 'kc-0' });
  });

  it('sampler: settings, then OTEL_TRACES_SAMPLER and its argument', () => {
    const env = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' };
    expect(resolve({}, env)?.sampler).toEqual({ type: 'parentbased_traceidratio', ratio: 0.1 });
    expect(resolve({ sampler: { type: 'always_on' } }, env)?.sampler).toEqual({ type: 'always_on', ratio: 1 });
    // The argument means nothing to a sampler without a ratio.
    expect(resolve({}, { OTEL_TRACES_SAMPLER: 'parentbased_always_off', OTEL_TRACES_SAMPLER_ARG: '0.1' })?.sampler).toEqual({ type: 'parentbased_always_off', ratio: 1 });
  });

  it('batching: settings, then OTEL_BSP_*; the batch never exceeds the queue by default', () => {
    const env = { OTEL_BSP_MAX_QUEUE_SIZE: '64', OTEL_BSP_SCHEDULE_DELAY: '250', OTEL_BSP_EXPORT_TIMEOUT: '2000' };
    expect(resolve({}, env)).toMatchObject({ maxQueueSize: 64, maxExportBatchSize: 64, scheduledDelayMs: 250, exportTimeoutMs: 2000 });
    expect(resolve({ maxQueueSize: 8, scheduledDelay: 10, exportTimeout: 20 }, env)).toMatchObject({ maxQueueSize: 8, maxExportBatchSize: 8, scheduledDelayMs: 10, exportTimeoutMs: 20 });
  });
});

describe('a malformed OTEL_* variable', () => {
  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'udp' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '-1' }, 'OTEL_BSP_MAX_QUEUE_SIZE'],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
  ])('%o is a ConfigError naming %s', (env, name) => {
    const error = configError(() => resolve({}, env));
    expect(error.issues).toEqual([expect.objectContaining({ code: 'invalid_value', file: 'environment', key: name })]);
  });

  it('does not matter while tracing is off', () => {
    expect(resolve(undefined, { OTEL_TRACES_SAMPLER: 'sometimes' })).toBeUndefined();
  });
});
