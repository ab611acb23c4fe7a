// Tracing for one keycard: a tracer provider of its own (nothing registered globally, so several
// keycards in one process each export their own spans), the OTLP exporter behind a bounded,
// counting batch processor, and the decorators that put store reads and JWKS fetches into the
// decision's trace. Built only when tracing is on (createTracing); with it off keycard holds
// undefined and every hook is a null check.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Metadata } from '@grpc/grpc-js';
import { SpanKind, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { BasicTracerProvider, Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { JwksLoader } from '../authn/key-set.js';
import type { Logger } from '../log/logger.js';
import type { AuthzInput } from '../pipeline/types.js';
import type { StoreObserver } from '../state/store-observer.js';
import type { StateStore } from '../state/store.js';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_PROCESS_PID,
  ATTR_RPC_METHOD,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  KEYCARD_AUTHZEN_ENDPOINT,
  KEYCARD_REQUEST_ID,
  MAX_REQUEST_ID_LENGTH,
  RPC_SYSTEM_NAME_VALUE_GRPC,
  SPAN_AUTHZEN,
  SPAN_CHECK,
} from './attributes.js';
import { AuthzenTrace } from './authzen-trace.js';
import { resolveTracingConfig, type Environment, type TracingConfig } from './config.js';
import { CountingSpanProcessor, type DropReason } from './counting-processor.js';
import { DecisionTrace } from './decision-trace.js';
import { extractParent } from './propagation.js';
import { activeScope } from './scope.js';
import { openTelemetrySdk, otlpExporterModule } from './sdk.js';
import type { TracingSettings } from './settings.js';
import { tracedJwksLoader, type JwksSource } from './traced-jwks-loader.js';
import { tracedStore, tracedStoreObserver } from './traced-store.js';

/** The Prometheus side: keycard_trace_spans_{exported,dropped}_total (src/metrics/metrics.ts). */
export interface TraceSpanMetrics {
  /** Tracing is on: show every drop reason, at 0 until it happens. */
  enable(): void;
  exported(count: number): void;
  dropped(reason: DropReason, count: number): void;
}

export interface TracingDeps {
  readonly metrics: TraceSpanMetrics;
  readonly logger: Logger;
}

/** How the check arrived: gRPC ext_authz (with its call metadata) or the HTTP check listener. */
export type CheckArrival = { readonly transport: 'grpc'; readonly metadata?: Metadata } | { readonly transport: 'http' };

const GRPC_ATTRIBUTES = { [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC, [ATTR_RPC_METHOD]: 'envoy.service.auth.v3.Authorization/Check' };

/** Tracing as the settings and environment configure it, or undefined when it is off. */
export function createTracing(settings: TracingSettings | undefined, deps: TracingDeps, env: Environment = process.env): Tracing | undefined {
  const config = resolveTracingConfig(settings, env);
  return config && new Tracing(config, deps);
}

export class Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private exportFailing = false;

  constructor(
    readonly config: TracingConfig,
    private readonly deps: TracingDeps,
  ) {
    const { resources, traceBase } = openTelemetrySdk();
    const resource = resources.defaultResource().merge(
      resources.resourceFromAttributes({
        ...config.resourceAttributes,
        [ATTR_SERVICE_NAME]: config.serviceName,
        // Each keycard (each cluster worker) exports on its own: tell them apart.
        [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
        [ATTR_PROCESS_PID]: process.pid,
      }),
    );
    const processor = new CountingSpanProcessor(
      exporterFor(config),
      {
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: config.maxExportBatchSize,
        scheduledDelayMillis: config.scheduledDelayMs,
        exportTimeoutMillis: config.exportTimeoutMs,
      },
      {
        exported: (count) => deps.metrics.exported(count),
        dropped: (reason, count) => deps.metrics.dropped(reason, count),
        exportResult: (result) => this.noteExport(result),
      },
    );
    deps.metrics.enable();
    this.provider = new traceBase.BasicTracerProvider({ resource, sampler: samplerFor(config.sampler), spanProcessors: [processor] });
    this.tracer = this.provider.getTracer('keycard');
  }

  /**
   * Starts the trace of one check, `receivedAt` (performance.now()) being when it arrived; undefined
   * when the sampler leaves it out (its parent is unsampled, or the root ratio says no).
   */
  begin(input: AuthzInput, arrival: CheckArrival, receivedAt: number): DecisionTrace | undefined {
    const parent = extractParent(input.headers, arrival.transport === 'grpc' ? arrival.metadata : undefined);
    const started = this.startServerSpan(SPAN_CHECK, parent, arrival.transport === 'grpc' ? GRPC_ATTRIBUTES : undefined, receivedAt, input.requestId);
    return started && new DecisionTrace(this.tracer, started.span, started.epochOffset);
  }

  /**
   * Starts the trace of one AuthZEN request (an endpoint's POST), continuing the caller's trace
   * from its headers (traceparent/tracestate or B3) as a Check continues the proxy's; undefined
   * when the sampler leaves it out. `route` is the endpoint's path (http.route).
   */
  beginAuthzen(headers: ReadonlyMap<string, string>, request: { readonly endpoint: string; readonly route: string; readonly requestId?: string }, receivedAt: number): AuthzenTrace | undefined {
    const attributes = { [KEYCARD_AUTHZEN_ENDPOINT]: request.endpoint, [ATTR_HTTP_REQUEST_METHOD]: 'POST', [ATTR_HTTP_ROUTE]: request.route };
    const started = this.startServerSpan(SPAN_AUTHZEN, extractParent(headers), attributes, receivedAt, request.requestId);
    return started && new AuthzenTrace(this.tracer, started.span, started.epochOffset, request.endpoint);
  }

  /** A request's SERVER span, started when it arrived; undefined when the sampler leaves it out. */
  private startServerSpan(name: string, parent: Context, attributes: Attributes | undefined, receivedAt: number, requestId: string | undefined): { span: Span; epochOffset: number } | undefined {
    const epochOffset = Date.now() - performance.now();
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: openTelemetrySdk().core.millisToHrTime(receivedAt + epochOffset), attributes }, parent);
    if (!span.isRecording()) return undefined;
    if (requestId !== undefined) span.setAttribute(KEYCARD_REQUEST_ID, requestId.slice(0, MAX_REQUEST_ID_LENGTH));
    return { span, epochOffset };
  }

  /** The serving store, its decision-time reads traced. */
  store(inner: StateStore): StateStore {
    return tracedStore(inner);
  }

  /** The caching store's observer, also annotating the current store span. */
  storeObserver(inner: StoreObserver): StoreObserver {
    return tracedStoreObserver(inner);
  }

  /** An issuer's JWKS loader, its fetches during a decision traced. */
  jwksLoader(issuer: { readonly name: string; readonly jwksFile?: string; readonly jwksUri?: string }, inner: JwksLoader): JwksLoader {
    const source: JwksSource = issuer.jwksFile !== undefined ? { file: issuer.jwksFile } : { uri: issuer.jwksUri ?? inner.description };
    return tracedJwksLoader(issuer.name, source, inner);
  }

  /** The verified-token cache was consulted (Authenticator's onCacheLookup). */
  tokenCacheLookup(hit: boolean): void {
    activeScope()?.decision.tokenCacheLookup(hit);
  }

  /**
   * Exports what is queued and stops. Bounded: a collector that does not answer costs at most the
   * export timeout and a second, never a hung shutdown.
   */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.exportTimeoutMs + 1000);
      timer.unref();
    });
    await Promise.race([this.provider.shutdown().catch(() => undefined), limit]);
    clearTimeout(timer);
  }

  /** One line when exports start failing and one when they recover, not one per batch. */
  private noteExport(result: ExportResult): void {
    const failing = result.code !== openTelemetrySdk().core.ExportResultCode.SUCCESS;
    if (failing === this.exportFailing) return;
    this.exportFailing = failing;
    if (failing) {
      this.deps.logger.warn({ endpoint: this.config.url, err: result.error?.message }, 'trace export failing: spans are dropped (keycard_trace_spans_dropped_total)');
    } else {
      this.deps.logger.info({ endpoint: this.config.url }, 'trace export recovered');
    }
  }
}

/** The performance.now() of a check's arrival, or 0 without tracing (no clock read then). */
export function arrivalMark(tracing: Tracing | undefined): number {
  return tracing === undefined ? 0 : performance.now();
}

function exporterFor(config: TracingConfig): SpanExporter {
  const common = { url: config.url, timeoutMillis: config.exportTimeoutMs };
  if (config.protocol === 'http/protobuf') return new (otlpExporterModule('http/protobuf').OTLPTraceExporter)({ ...common, headers: { ...config.headers } });
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(config.headers)) metadata.set(name.toLowerCase(), value);
  return new (otlpExporterModule('grpc').OTLPTraceExporter)({ ...common, metadata });
}

function samplerFor({ type, ratio }: TracingConfig['sampler']): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = openTelemetrySdk().traceBase;
  switch (type) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}
