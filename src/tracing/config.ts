// What tracing runs with: the `tracing:` settings, then the standard OTEL_* environment variables,
// then the defaults, key by key. Tracing is off unless the settings have a `tracing:` key or the
// environment names an OTLP endpoint or exporter; OTEL_SDK_DISABLED=true and
// OTEL_TRACES_EXPORTER=none turn it off whatever the settings say (the operator's kill switch).
// A malformed variable is a ConfigError naming it, like a malformed settings key.
import { ConfigError } from '../errors.js';
import { openTelemetrySdk } from './sdk.js';
import { OTLP_PROTOCOLS, SAMPLER_TYPES, usesRatio, type OtlpProtocol, type SamplerType, type TracingSettings } from './settings.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface TracingConfig {
  readonly protocol: OtlpProtocol;
  /** Where spans are sent: for http/protobuf the full traces URL, for grpc the collector's address. */
  readonly url: string;
  /** The settings' headers; the exporter merges them over OTEL_EXPORTER_OTLP(_TRACES)_HEADERS itself. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES (service.name among them is overridden by serviceName). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: { readonly type: SamplerType; readonly ratio: number };
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMs: number;
  readonly exportTimeoutMs: number;
}

export const TRACING_DEFAULTS = {
  protocol: 'http/protobuf',
  serviceName: 'keycard',
  /** The OpenTelemetry default: follow the caller's (Envoy's) decision; sample every root request. */
  sampler: 'parentbased_always_on',
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMs: 5000,
  exportTimeoutMs: 10_000,
} as const;

const DEFAULT_ENDPOINTS: Record<OtlpProtocol, string> = { 'http/protobuf': 'http://localhost:4318', grpc: 'http://localhost:4317' };
const TRACES_PATH = 'v1/traces';

/** The tracing configuration, or undefined when tracing is off. */
export function resolveTracingConfig(settings: TracingSettings | undefined, env: Environment): TracingConfig | undefined {
  const exporters = exportersFromEnv(env);
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || exporters === 'none') return undefined;
  if (settings?.enabled === false) return undefined;
  const envEnables = exporters === 'otlp' || present(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || present(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (settings === undefined && !envEnables) return undefined;

  const protocol = settings?.protocol ?? protocolFromEnv(env);
  // The OpenTelemetry parser (percent-decoding, limits): tracing is on, so the SDK loads anyway.
  const resourceAttributes = openTelemetrySdk().core.parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES);
  const maxQueueSize = settings?.maxQueueSize ?? positiveIntFromEnv(env, 'OTEL_BSP_MAX_QUEUE_SIZE') ?? TRACING_DEFAULTS.maxQueueSize;
  const batchFromEnv = settings?.maxExportBatchSize === undefined ? positiveIntFromEnv(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE') : undefined;
  const maxExportBatchSize = settings?.maxExportBatchSize ?? batchFromEnv ?? Math.min(TRACING_DEFAULTS.maxExportBatchSize, maxQueueSize);
  if (maxExportBatchSize > maxQueueSize) {
    const key = batchFromEnv !== undefined ? 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' : 'tracing.maxExportBatchSize';
    throw envError(key, `${maxExportBatchSize} exceeds the queue size ${maxQueueSize}`);
  }
  return {
    protocol,
    url: settings?.endpoint !== undefined ? settingsUrl(settings.endpoint, protocol) : envUrl(env, protocol),
    headers: settings?.headers ?? {},
    serviceName: settings?.serviceName ?? nonEmpty(env.OTEL_SERVICE_NAME) ?? resourceAttributes['service.name'] ?? TRACING_DEFAULTS.serviceName,
    resourceAttributes,
    sampler: settings?.sampler ? { type: settings.sampler.type, ratio: settings.sampler.ratio ?? 1 } : samplerFromEnv(env),
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMs: settings?.scheduledDelay ?? positiveIntFromEnv(env, 'OTEL_BSP_SCHEDULE_DELAY') ?? TRACING_DEFAULTS.scheduledDelayMs,
    exportTimeoutMs: settings?.exportTimeout ?? positiveIntFromEnv(env, 'OTEL_BSP_EXPORT_TIMEOUT') ?? TRACING_DEFAULTS.exportTimeoutMs,
  };
}

/** OTEL_TRACES_EXPORTER: unset, `otlp` or `none`; keycard has no other exporter. */
function exportersFromEnv(env: Environment): 'otlp' | 'none' | undefined {
  const value = nonEmpty(env.OTEL_TRACES_EXPORTER);
  if (value === undefined) return undefined;
  const names = [...new Set(value.split(',').map((name) => name.trim().toLowerCase()))];
  if (names.length === 1 && (names[0] === 'otlp' || names[0] === 'none')) return names[0];
  throw envError('OTEL_TRACES_EXPORTER', `"${value}": keycard exports traces with otlp only (or none)`);
}

function protocolFromEnv(env: Environment): OtlpProtocol {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = nonEmpty(env[name]);
    if (value === undefined) continue;
    if ((OTLP_PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
    throw envError(name, `"${value}" is not one of ${OTLP_PROTOCOLS.join(', ')}`);
  }
  return TRACING_DEFAULTS.protocol;
}

/** A bare http/protobuf endpoint (no path) gets /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT does. */
function settingsUrl(endpoint: string, protocol: OtlpProtocol): string {
  const url = new URL(endpoint);
  if (protocol === 'http/protobuf' && url.pathname === '/') url.pathname = `/${TRACES_PATH}`;
  return url.toString();
}

/** The signal-specific variable is used as it is; the generic one is a base URL (OTLP exporter spec). */
function envUrl(env: Environment, protocol: OtlpProtocol): string {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (specific !== undefined) return httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific).toString();
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const url = base === undefined ? new URL(DEFAULT_ENDPOINTS[protocol]) : httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  if (protocol === 'http/protobuf') url.pathname = `${url.pathname.replace(/\/$/, '')}/${TRACES_PATH}`;
  return url.toString();
}

function httpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw envError(name, `"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw envError(name, `"${value}" must be an http or https URL`);
  return url;
}

function samplerFromEnv(env: Environment): TracingConfig['sampler'] {
  const name = nonEmpty(env.OTEL_TRACES_SAMPLER)?.toLowerCase() ?? TRACING_DEFAULTS.sampler;
  if (!(SAMPLER_TYPES as readonly string[]).includes(name)) {
    throw envError('OTEL_TRACES_SAMPLER', `"${name}" is not one of ${SAMPLER_TYPES.join(', ')}`);
  }
  const type = name as SamplerType;
  const arg = nonEmpty(env.OTEL_TRACES_SAMPLER_ARG);
  if (!usesRatio(type) || arg === undefined) return { type, ratio: 1 };
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw envError('OTEL_TRACES_SAMPLER_ARG', `"${arg}" is not a ratio between 0 and 1`);
  return { type, ratio };
}

function positiveIntFromEnv(env: Environment, name: string): number | undefined {
  const value = nonEmpty(env[name]);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw envError(name, `"${value}" is not a positive integer`);
  return number;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function present(value: string | undefined): boolean {
  return nonEmpty(value) !== undefined;
}

function envError(key: string, message: string): ConfigError {
  return new ConfigError([{ code: 'invalid_value', file: key.startsWith('OTEL_') ? 'environment' : 'settings', key, message }]);
}
