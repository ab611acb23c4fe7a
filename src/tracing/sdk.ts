// The OpenTelemetry SDK, loaded on first use. Loading it (core, propagators, resources, the trace
// SDK and an OTLP exporter) takes about 100 ms and 10 MB; keycard without tracing never pays
// that, at start or in an offline command. The packages are CommonJS, so they load synchronously
// here, when a Keycard with tracing on is built. Only @opentelemetry/api (small) is imported
// statically elsewhere.
import { createRequire } from 'node:module';
import type * as Core from '@opentelemetry/core';
import type * as GrpcExporter from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as ProtoExporter from '@opentelemetry/exporter-trace-otlp-proto';
import type * as B3 from '@opentelemetry/propagator-b3';
import type * as Resources from '@opentelemetry/resources';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';

export interface OpenTelemetrySdk {
  readonly core: typeof Core;
  readonly b3: typeof B3;
  readonly resources: typeof Resources;
  readonly traceBase: typeof TraceBase;
}

const load = createRequire(import.meta.url);
let sdk: OpenTelemetrySdk | undefined;

export function openTelemetrySdk(): OpenTelemetrySdk {
  sdk ??= {
    core: load('@opentelemetry/core') as typeof Core,
    b3: load('@opentelemetry/propagator-b3') as typeof B3,
    resources: load('@opentelemetry/resources') as typeof Resources,
    traceBase: load('@opentelemetry/sdk-trace-base') as typeof TraceBase,
  };
  return sdk;
}

/** The OTLP exporter package for a protocol (only the one in use is loaded). */
export function otlpExporterModule(protocol: 'http/protobuf'): typeof ProtoExporter;
export function otlpExporterModule(protocol: 'grpc'): typeof GrpcExporter;
export function otlpExporterModule(protocol: 'http/protobuf' | 'grpc'): typeof ProtoExporter | typeof GrpcExporter {
  return protocol === 'grpc' ? (load('@opentelemetry/exporter-trace-otlp-grpc') as typeof GrpcExporter) : (load('@opentelemetry/exporter-trace-otlp-proto') as typeof ProtoExporter);
}
