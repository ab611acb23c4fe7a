// The batch processor keycard exports through, with the SDK's BatchSpanProcessor inside: behind a
// collector that holds its answers (as a slow one does), every finished span is accounted for —
// exported, dropped because the queue was full, or dropped because its export failed — and none
// is lost silently. The collector here is a SpanExporter the test answers for, so the moment of
// each answer is the test's to choose.
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CountingSpanProcessor, type DropReason } from '../../src/tracing/counting-processor.js';

class HeldExporter implements SpanExporter {
  readonly pending: { spans: ReadableSpan[]; answer: (result: ExportResult) => void }[] = [];
  export(spans: ReadableSpan[], answer: (result: ExportResult) => void): void {
    this.pending.push({ spans, answer });
  }
  async shutdown(): Promise<void> {}
  /** Answers every export held so far, and those the answers set off, until none is left. */
  async answerAll(code: ExportResultCode): Promise<void> {
    for (let rounds = 0; rounds < 100; rounds++) {
      const batch = this.pending.splice(0);
      for (const { answer } of batch) answer(code === ExportResultCode.SUCCESS ? { code } : { code, error: new Error('collector refused') });
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.pending.length === 0) return;
    }
  }
}

function setup(maxQueueSize: number, maxExportBatchSize: number) {
  const exporter = new HeldExporter();
  const counts = { exported: 0, queue_full: 0, export_failed: 0, shutdown: 0 };
  const results: ExportResult[] = [];
  const processor = new CountingSpanProcessor(
    exporter,
    { maxQueueSize, maxExportBatchSize, scheduledDelayMillis: 1, exportTimeoutMillis: 60_000 },
    {
      exported: (count) => (counts.exported += count),
      dropped: (reason: DropReason, count) => (counts[reason] += count),
      exportResult: (result) => results.push(result),
    },
  );
  const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('test');
  const endSpans = (n: number) => {
    for (let i = 0; i < n; i++) tracer.startSpan(`span-${i}`, {}, ROOT_CONTEXT).end();
  };
  return { exporter, counts, results, processor, endSpans };
}

describe('CountingSpanProcessor', () => {
  it('drops and counts what overflows the queue while the collector is slow; exports the rest', async () => {
    const { exporter, counts, processor, endSpans } = setup(4, 2);
    endSpans(10);
    // One batch of 2 is with the collector and 4 more wait: the queue holds 4.
    expect(counts.queue_full).toBe(4);
    expect(exporter.pending.map((held) => held.spans.length)).toEqual([2]);
    await exporter.answerAll(ExportResultCode.SUCCESS);
    expect(counts).toEqual({ exported: 6, queue_full: 4, export_failed: 0, shutdown: 0 });
    // The queue has room again.
    endSpans(3);
    const flushed = processor.forceFlush();
    await exporter.answerAll(ExportResultCode.SUCCESS);
    await flushed;
    expect(counts).toEqual({ exported: 9, queue_full: 4, export_failed: 0, shutdown: 0 });
  });

  it('counts every span of a refused batch as export_failed, and accounts for every span ended', async () => {
    const { exporter, counts, results, processor, endSpans } = setup(8, 3);
    endSpans(50);
    await exporter.answerAll(ExportResultCode.FAILED);
    const shutdown = processor.shutdown();
    await exporter.answerAll(ExportResultCode.FAILED);
    await shutdown;
    expect(counts.export_failed).toBeGreaterThan(0);
    expect(counts.exported + counts.queue_full + counts.export_failed).toBe(50);
    expect(results.every((result) => result.code === ExportResultCode.FAILED)).toBe(true);
    // After shutdown nothing is queued: a late span is counted, not silently lost.
    endSpans(2);
    expect(counts.shutdown).toBe(2);
  });
});
