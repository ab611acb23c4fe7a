import { AggregatorRegistry, Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SlotCounter, SlotHistogram } from '../../src/metrics/slot-metrics.js';

const BUCKETS = [0.0001, 0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, number][] = [
  ['route', 0.00005],
  ['identity', 0.0001], // on a bound: counted in that bucket (le is "less than or equal")
  ['route', 0.002],
  ['state', 3], // above every bound: only +Inf
  ['identity', 0.05],
  ['route', 0],
];
const COUNTS: [Record<'service' | 'decision', string>, number][] = [
  [{ service: 'orders', decision: 'allow' }, 1],
  [{ service: 'orders', decision: 'deny' }, 1],
  [{ service: 'orders', decision: 'allow' }, 2],
  [{ service: 'a "quoted"\\ name\n', decision: 'allow' }, 1],
];

/** The same observations into prom-client's own metrics and into the slot metrics, one registry each. */
function bothWays() {
  const prom = new Registry();
  const slots = new Registry();
  const histogram = { name: 'test_phase_seconds', help: 'Phases.', labelNames: ['phase'] as const, buckets: BUCKETS };
  const counter = { name: 'test_decisions_total', help: 'Decisions.', labelNames: ['service', 'decision'] as const };
  const promHistogram = new Histogram({ ...histogram, registers: [prom] });
  const promCounter = new Counter({ ...counter, registers: [prom] });
  const slotHistogram = new SlotHistogram({ ...histogram, registers: [slots] });
  const slotCounter = new SlotCounter({ ...counter, registers: [slots] });
  for (const [phase, seconds] of OBSERVATIONS) {
    promHistogram.observe({ phase }, seconds);
    slotHistogram.observe({ phase }, seconds);
  }
  for (const [labels, by] of COUNTS) {
    promCounter.inc(labels, by);
    slotCounter.inc(labels, by);
  }
  return { prom, slots, slotHistogram, slotCounter };
}

describe('slot metrics', () => {
  it('write the exposition text prom-client writes for the same observations', async () => {
    const { prom, slots } = bothWays();
    const text = await slots.metrics();
    expect(text).toBe(await prom.metrics());
    expect(text).toContain('test_phase_seconds_bucket{le="0.0001",phase="identity"} 1');
    expect(text).toContain('test_phase_seconds_bucket{le="+Inf",phase="state"} 1');
    expect(text).toContain('test_decisions_total{service="orders",decision="allow"} 3');
  });

  it('write the same OpenMetrics text', async () => {
    const both = bothWays();
    const prom = new Registry<RegistryContentType>();
    const slots = new Registry<RegistryContentType>();
    prom.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    slots.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    for (const name of ['test_phase_seconds', 'test_decisions_total']) {
      prom.registerMetric(both.prom.getSingleMetric(name)!);
      slots.registerMetric(both.slots.getSingleMetric(name)!);
    }
    const text = await slots.metrics();
    expect(text).toBe(await prom.metrics());
    expect(text).toContain('# EOF');
    expect(text).toContain('test_decisions_total{service="orders",decision="allow"} 3');
  });

  it('aggregate across cluster workers as prom-client metrics do', async () => {
    const workers = [bothWays(), bothWays()];
    const fromSlots = AggregatorRegistry.aggregate(await Promise.all(workers.map((worker) => worker.slots.getMetricsAsJSON())));
    const fromProm = AggregatorRegistry.aggregate(await Promise.all(workers.map((worker) => worker.prom.getMetricsAsJSON())));
    const text = await fromSlots.metrics();
    expect(text).toBe(await fromProm.metrics());
    expect(text).toContain('test_decisions_total{service="orders",decision="allow"} 6');
  });

  it('keep a held slot counting, and start from nothing after a reset', async () => {
    const { slots, slotCounter, slotHistogram } = bothWays();
    const held = slotCounter.slot({ service: 'orders', decision: 'deny' });
    held.inc();
    held.inc(-5); // a counter never goes down
    held.inc(Number.NaN);
    expect(await slots.metrics()).toContain('test_decisions_total{service="orders",decision="deny"} 2');
    slotHistogram.observe({ phase: 'route' }, Number.POSITIVE_INFINITY); // dropped, not summed
    expect(await slots.metrics()).toContain('test_phase_seconds_count{phase="route"} 3');
    slots.resetMetrics();
    expect(await slots.metrics()).not.toContain('orders');
  });
});
