// A real OTLP trace receiver inside the test: OTLP/HTTP (protobuf, POST /v1/traces) or OTLP/gRPC
// (TraceService/Export) on a free port, decoding ExportTraceServiceRequest with the OTLP proto
// (fixtures/otlp-trace.proto), keeping every span and every raw request body.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, Server as GrpcServer, ServerCredentials, type GrpcObject, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('./fixtures/otlp-trace.proto', import.meta.url));
const SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';

const definition = loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const exportMethod = (definition[SERVICE] as Record<string, MethodDefinition<unknown, unknown>>).Export!;

type AttributeValue = string | number | boolean;

interface WireValue {
  readonly value?: 'string_value' | 'bool_value' | 'int_value' | 'double_value' | 'array_value' | 'kvlist_value' | 'bytes_value';
  readonly string_value?: string;
  readonly bool_value?: boolean;
  readonly int_value?: string;
  readonly double_value?: number;
}
interface WireKeyValue {
  readonly key: string;
  readonly value?: WireValue;
}
interface WireSpan {
  readonly trace_id: Buffer;
  readonly span_id: Buffer;
  readonly trace_state: string;
  readonly parent_span_id: Buffer;
  readonly flags: number;
  readonly name: string;
  readonly kind: string;
  readonly start_time_unix_nano: string;
  readonly end_time_unix_nano: string;
  readonly attributes: readonly WireKeyValue[];
  readonly events: readonly { readonly name: string; readonly attributes: readonly WireKeyValue[] }[];
  readonly status?: { readonly code: string; readonly message: string };
}
interface WireRequest {
  readonly resource_spans: readonly {
    readonly resource?: { readonly attributes: readonly WireKeyValue[] };
    readonly scope_spans: readonly { readonly spans: readonly WireSpan[] }[];
  }[];
}

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  /** SPAN_KIND_SERVER, SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT, ... */
  readonly kind: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, AttributeValue>> }[];
  /** STATUS_CODE_UNSET, STATUS_CODE_OK or STATUS_CODE_ERROR, and its message. */
  readonly status: { readonly code: string; readonly message: string };
  readonly resource: Readonly<Record<string, AttributeValue>>;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Every export request body as it arrived (protobuf), for byte-level searches. */
  readonly bodies: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private port_ = 0;
  private close_: () => Promise<void> = async () => undefined;

  private constructor(readonly protocol: 'http/protobuf' | 'grpc') {}

  /** OTLP/HTTP with protobuf bodies; `endpoint` is the base URL (keycard adds /v1/traces). */
  static async http(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver('http/protobuf');
    const server: HttpServer = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces' || request.headers['content-type'] !== 'application/x-protobuf') {
          response.writeHead(404).end();
          return;
        }
        const body = Buffer.concat(chunks);
        receiver.accept(body, exportMethod.requestDeserialize(body) as WireRequest);
        response.writeHead(200, { 'content-type': 'application/x-protobuf' });
        response.end(exportMethod.responseSerialize({}));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.port_ = (server.address() as AddressInfo).port;
    receiver.close_ = () => new Promise((resolve) => server.close(() => resolve()));
    return receiver;
  }

  /** OTLP/gRPC, insecure. */
  static async grpc(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver('grpc');
    const server = new GrpcServer();
    const proto = loadPackageDefinition(definition) as GrpcObject;
    const service = ((proto.opentelemetry as GrpcObject).proto as GrpcObject).collector as GrpcObject;
    const traceService = ((service.trace as GrpcObject).v1 as GrpcObject).TraceService as unknown as { service: ServiceDefinition };
    const implementation: UntypedServiceImplementation = {
      Export: (call: { request: WireRequest }, callback: (error: null, response: object) => void) => {
        receiver.accept(Buffer.from(exportMethod.requestSerialize(call.request)), call.request);
        callback(null, {});
      },
    };
    server.addService(traceService.service, implementation);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    receiver.port_ = port;
    receiver.close_ = () => new Promise((resolve) => server.tryShutdown(() => resolve()));
    return receiver;
  }

  get port(): number {
    return this.port_;
  }

  /** The base URL: for http/protobuf keycard appends /v1/traces. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port_}`;
  }

  /** The spans of `traceId`, once `done` says they are all there (or fails after `timeoutMs`). */
  async trace(traceId: string, done: (spans: ReceivedSpan[]) => boolean, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    return this.until(() => {
      const spans = this.spans.filter((span) => span.traceId === traceId);
      return done(spans) ? spans : undefined;
    }, timeoutMs, `the spans of trace ${traceId}`);
  }

  /** Waits until `found` returns something (checked on every export). */
  async until<T>(found: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = found();
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received ${this.spans.length} spans: ${this.spans.map((span) => span.name).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.close_();
  }

  private accept(body: Buffer, request: WireRequest): void {
    this.bodies.push(body);
    for (const resourceSpans of request.resource_spans) {
      const resource = attributes(resourceSpans.resource?.attributes ?? []);
      for (const scope of resourceSpans.scope_spans) {
        for (const span of scope.spans) this.spans.push(received(span, resource));
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function received(span: WireSpan, resource: Record<string, AttributeValue>): ReceivedSpan {
  return {
    traceId: span.trace_id.toString('hex'),
    spanId: span.span_id.toString('hex'),
    parentSpanId: span.parent_span_id.toString('hex'),
    traceState: span.trace_state,
    name: span.name,
    kind: span.kind,
    startNs: BigInt(span.start_time_unix_nano),
    endNs: BigInt(span.end_time_unix_nano),
    attributes: attributes(span.attributes),
    events: span.events.map((event) => ({ name: event.name, attributes: attributes(event.attributes) })),
    status: { code: span.status?.code ?? 'STATUS_CODE_UNSET', message: span.status?.message ?? '' },
    resource,
  };
}

function attributes(list: readonly WireKeyValue[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list) {
    if (value?.value === 'string_value') out[key] = value.string_value ?? '';
    else if (value?.value === 'bool_value') out[key] = value.bool_value ?? false;
    else if (value?.value === 'int_value') out[key] = Number(value.int_value);
    else if (value?.value === 'double_value') out[key] = value.double_value ?? 0;
    else out[key] = JSON.stringify(value);
  }
  return out;
}
