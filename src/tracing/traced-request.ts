// What a Check's decision trace and an AuthZEN request's trace have in common: the request's span,
// one clock for all of its spans, the scope that store reads and JWKS fetches find it by, and
// child spans under whatever part of the request is running.
import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, trace, type Context, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import { KEYCARD_TOKEN_CACHE } from './attributes.js';
import type { ChildSpanOptions, ScopedDecision, TraceScope } from './scope.js';
import { openTelemetrySdk } from './sdk.js';

export abstract class TracedRequest implements ScopedDecision {
  protected readonly scope: TraceScope = { decision: this };
  /** The context child spans of the request itself are started in. */
  protected readonly spanContext: Context;
  protected ended = false;
  private readonly toHrTime = openTelemetrySdk().core.millisToHrTime;

  constructor(
    protected readonly tracer: Tracer,
    /** The request's span; recording (the sampler kept it). */
    readonly span: Span,
    /** Date.now() - performance.now() when the request arrived: turns its marks into times. */
    protected readonly epochOffset: number,
  ) {
    this.spanContext = trace.setSpan(ROOT_CONTEXT, span);
  }

  /**
   * The time of a performance.now() mark. Every span of the request is timed through this one
   * offset: the SDK's own conversion takes a Date.now() per span, up to a millisecond apart, which
   * would make phases overlap.
   */
  time(mark: number = performance.now()): HrTime {
    return this.toHrTime(mark + this.epochOffset);
  }

  startChild(name: string, options: ChildSpanOptions): Span | undefined {
    if (this.ended) return undefined;
    const kind = options.client ? SpanKind.CLIENT : SpanKind.INTERNAL;
    return this.tracer.startSpan(name, { kind, attributes: options.attributes, startTime: this.time() }, this.childContext() ?? this.spanContext);
  }

  tokenCacheLookup(hit: boolean): void {
    if (!this.ended) this.span.setAttribute(KEYCARD_TOKEN_CACHE, hit ? 'hit' : 'miss');
  }

  /** The context of the part of the request now running (a phase, the caller's authentication), if any. */
  protected abstract childContext(): Context | undefined;
}
