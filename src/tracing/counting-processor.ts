// The SDK's BatchSpanProcessor, with every span it cannot deliver counted. The SDK drops spans
// silently when its queue is full (a slow or unreachable collector), so this processor keeps the
// bound itself: it counts the spans handed to the batch processor and not yet handed on to the
// exporter, and drops (and counts) a span that would overflow. That count is never below the
// batch processor's own queue length, so the batch processor's silent drop is never reached.
// Exports that fail (the collector refused, timed out, or could not be reached) are counted too.
import { TraceFlags, type Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { BatchSpanProcessor, ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openTelemetrySdk } from './sdk.js';

export type DropReason = 'queue_full' | 'export_failed' | 'shutdown';

export interface SpanCounts {
  exported(count: number): void;
  dropped(reason: DropReason, count: number): void;
  /** Every export's outcome, for a log line when exporting starts or stops failing. */
  exportResult(result: ExportResult): void;
}

export interface BatchOptions {
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
}

export class CountingSpanProcessor implements SpanProcessor {
  private readonly batch: BatchSpanProcessor;
  /** Spans given to the batch processor that it has not yet given to the exporter. */
  private queued = 0;
  private closed = false;

  constructor(
    exporter: SpanExporter,
    private readonly options: BatchOptions,
    private readonly counts: SpanCounts,
  ) {
    this.batch = new (openTelemetrySdk().traceBase.BatchSpanProcessor)(new CountingExporter(exporter, counts, (count) => (this.queued -= count)), { ...options });
  }

  onStart(span: Span, parentContext: Context): void {
    this.batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // The batch processor ignores unsampled spans; so does the count.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.closed) return this.counts.dropped('shutdown', 1);
    if (this.queued >= this.options.maxQueueSize) return this.counts.dropped('queue_full', 1);
    this.queued++;
    this.batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.batch.forceFlush();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    return this.batch.shutdown();
  }
}

/** Tells the processor when spans leave its queue, and counts what became of them. */
class CountingExporter implements SpanExporter {
  private readonly codes = openTelemetrySdk().core.ExportResultCode;

  constructor(
    private readonly inner: SpanExporter,
    private readonly counts: SpanCounts,
    private readonly handedOver: (count: number) => void,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    // The batch processor takes a batch off its queue and calls export at once (no resource here
    // has attributes still pending), so the queue shrinks exactly now.
    this.handedOver(spans.length);
    let settled = false;
    const done = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      if (result.code === this.codes.SUCCESS) this.counts.exported(spans.length);
      else this.counts.dropped('export_failed', spans.length);
      this.counts.exportResult(result);
      resultCallback(result);
    };
    try {
      this.inner.export(spans, done);
    } catch (error) {
      done({ code: this.codes.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
