// Which traced decision (and which store call of it) the running code works for. Store reads and
// JWKS fetches happen deep inside the identity and authorization code, which knows nothing of
// tracing; rather than thread a recorder through every credential provider and jose's key
// resolver, a traced decision runs its phases inside this scope and the tracing decorators
// (traced-store.ts, traced-jwks-loader.ts) look it up. This is keycard's own AsyncLocalStorage,
// not an OpenTelemetry context manager: nothing global is registered, and each scope names its
// own decision (and so its own tracer), so several keycards in one process never mix.
//
// Only traced (sampled) decisions ever enter a scope; with tracing off nothing here is used at all
// and AsyncLocalStorage is never enabled.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { HrTime, Span } from '@opentelemetry/api';

/** What a decision's child spans need: implemented by DecisionTrace. */
export interface ScopedDecision {
  /** A child span of the phase now running (or of the decision), or undefined once the decision has ended. */
  startChild(name: string, options: ChildSpanOptions): Span | undefined;
  /** The verified-token cache was consulted for this decision. */
  tokenCacheLookup(hit: boolean): void;
  /** Now, on the decision's clock (end child spans with it). */
  time(): HrTime;
}

export interface ChildSpanOptions {
  readonly client: boolean;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}

export interface TraceScope {
  readonly decision: ScopedDecision;
  /** Set inside a traced store call, for the store observer's cache and result annotations. */
  readonly storeSpan?: Span;
}

const scopes = new AsyncLocalStorage<TraceScope>();

export function activeScope(): TraceScope | undefined {
  return scopes.getStore();
}

export function runInScope<T>(scope: TraceScope, work: () => T): T {
  return scopes.run(scope, work);
}
