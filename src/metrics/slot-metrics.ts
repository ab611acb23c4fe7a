// Counters and histograms for the metrics recorded on every decision. prom-client's own spend
// about half a microsecond per call validating and hashing the label object (a Check records six):
// these find a label set's slot once, keep it in a Map, and then only add. They register in a
// prom-client Registry like its own metrics, so exposition, `getMetricsAsJSON` and the cluster's
// AggregatorRegistry stay prom-client's; test/metrics/slot-metrics.test.ts checks that the text
// is byte for byte what prom-client's Counter and Histogram write for the same observations.
import type { Metric, Registry } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

interface SlotMetricConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry[];
}

/**
 * What prom-client's Counter and Histogram return from get() (its type declarations describe
 * `type` as an enum and ask for a `collect`; at run time it is these strings and nothing more).
 */
export interface SlotMetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly { readonly labels: Readonly<Record<string, string | number>>; readonly value: number; readonly metricName?: string }[];
}

/**
 * Slots by label value, one level per label name. Label values are mostly constants (phases,
 * verdicts, catalogue codes) whose string hashes V8 keeps: looking them up level by level costs
 * less than hashing a freshly joined key on every call.
 */
type SlotTree<S> = Map<string, SlotTree<S> | S>;

abstract class SlotMetric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: SlotMetricSnapshot['type'];
  readonly aggregator = 'sum' as const;
  /** Every label set seen, in the order first seen (prom-client's order too). */
  protected readonly slots: { readonly labels: Labels<L>; readonly slot: S }[] = [];
  private tree: SlotTree<S> = new Map();
  private readonly labelNames: readonly L[];

  constructor(config: SlotMetricConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    // prom-client's registry reads only name, help, type, aggregator, get() and reset() of a metric;
    // its types list its own classes, hence the cast.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The slot for these label values, made on first use. Hold it where the label values are fixed. */
  slot(labels: Labels<L>): S {
    const { labelNames } = this;
    let level = this.tree;
    for (let depth = 0; depth < labelNames.length - 1; depth++) {
      const value = labels[labelNames[depth]!];
      let next = level.get(value) as SlotTree<S> | undefined;
      if (!next) level.set(value, (next = new Map()));
      level = next;
    }
    const last = labelNames.length === 0 ? '' : labels[labelNames[labelNames.length - 1]!];
    let slot = level.get(last) as S | undefined;
    if (slot === undefined) {
      slot = this.newSlot();
      level.set(last, slot);
      this.slots.push({ labels: { ...labels }, slot });
    }
    return slot;
  }

  reset(): void {
    this.tree = new Map();
    this.slots.length = 0;
  }

  protected abstract newSlot(): S;
}

export class CounterSlot {
  value = 0;

  inc(by = 1): void {
    // A counter never goes down, and a NaN would poison it for good.
    if (by >= 0) this.value += by;
  }
}

export class SlotCounter<L extends string> extends SlotMetric<L, CounterSlot> {
  readonly type = 'counter' as const;

  inc(labels: Labels<L>, by = 1): void {
    this.slot(labels).inc(by);
  }

  get(): Promise<SlotMetricSnapshot> {
    const values = this.slots.map(({ labels, slot }) => ({ labels: { ...labels }, value: slot.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  protected newSlot(): CounterSlot {
    return new CounterSlot();
  }
}

export class HistogramSlot {
  /** Observations per bucket (not cumulative); the last counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // A duration is always finite; anything else is dropped rather than poisoning the sum.
    if (!Number.isFinite(value)) return;
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }
}

export class SlotHistogram<L extends string> extends SlotMetric<L, HistogramSlot> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(config: SlotMetricConfig<L> & { readonly buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels<L>, value: number): void {
    this.slot(labels).observe(value);
  }

  /** prom-client's shape: per label set, the cumulative buckets (`le` first), +Inf, sum and count. */
  get(): Promise<SlotMetricSnapshot> {
    const values: SlotMetricSnapshot['values'][number][] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, slot } of this.slots) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += slot.counts[index]!;
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: '+Inf', ...labels }, value: slot.count, metricName: bucketName },
        { labels: { ...labels }, value: slot.sum, metricName: `${this.name}_sum` },
        { labels: { ...labels }, value: slot.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  protected newSlot(): HistogramSlot {
    return new HistogramSlot(this.bounds);
  }
}
