// The trace a Check belongs to. Envoy (and any tracer in front of it) puts the request's trace
// context in the request headers, which arrive in the CheckRequest (AuthzInput.headers,
// lower-case names): W3C `traceparent`/`tracestate`, or B3 as the single `b3` header or the
// `x-b3-*` headers Envoy's Zipkin tracer emits. Envoy's gRPC client also puts the context of its
// own ext_authz span in the Check call's metadata; when present that is the closer parent (the
// proxy's span for this very call), so it is read first. W3C wins over B3 when a carrier has both.
import { ROOT_CONTEXT, trace, type Context, type TextMapGetter, type TextMapPropagator } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';
import { openTelemetrySdk } from './sdk.js';

let composite: TextMapPropagator | undefined;

/** Built on first use (the SDK loads only with tracing on). Extracts with each in turn, a later one overriding: W3C last wins. */
function propagator(): TextMapPropagator {
  const { core, b3 } = openTelemetrySdk();
  composite ??= new core.CompositePropagator({ propagators: [new b3.B3Propagator(), new core.W3CTraceContextPropagator()] });
  return composite;
}

const headerGetter: TextMapGetter<ReadonlyMap<string, string>> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key),
};

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).filter((value): value is string => typeof value === 'string');
    return values.length === 0 ? undefined : values;
  },
};

/** The parent context of a check: the call metadata's trace, else the request headers', else none (a root). */
export function extractParent(headers: ReadonlyMap<string, string>, metadata?: Metadata): Context {
  if (metadata !== undefined) {
    const fromCall = propagator().extract(ROOT_CONTEXT, metadata, metadataGetter);
    if (trace.getSpanContext(fromCall) !== undefined) return fromCall;
  }
  return propagator().extract(ROOT_CONTEXT, headers, headerGetter);
}
