// Prometheus metrics. One registry per keycard instance (not prom-client's global), so several
// instances can live in one process (tests, shadow evaluation). Label values are bounded: the
// reason is a catalogue code and unknown services collapse into one value.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { decisionLabel, type Decision, type Phase } from '../pipeline/types.js';
import type { StoreObserver } from '../state/store-observer.js';
import { SlotCounter, SlotHistogram } from './slot-metrics.js';

export const UNKNOWN_SERVICE_LABEL = '_unknown';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Metrics {
  readonly registry = new Registry();
  // Recorded on every decision or store read: slot metrics (see slot-metrics.ts), not prom-client's.
  private readonly decisions = new SlotCounter({
    name: 'keycard_decisions_total',
    help: 'Authorization decisions, by service, decision (allow|deny) and reason code.',
    labelNames: ['service', 'decision', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly checkDuration = new SlotHistogram({
    name: 'keycard_check_duration_seconds',
    help: 'Time to decide one check, from input to decision.',
    labelNames: ['decision'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly phaseDuration = new SlotHistogram({
    name: 'keycard_phase_duration_seconds',
    help: 'Time spent in each pipeline phase (route, identity, state, authorize).',
    labelNames: ['phase'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly tokenCacheHits = new Counter({ name: 'keycard_token_cache_hits_total', help: 'Tokens recognized from the verified-token cache.', registers: [this.registry] });
  readonly tokenCacheMisses = new Counter({ name: 'keycard_token_cache_misses_total', help: 'Tokens that had to be verified.', registers: [this.registry] });
  /** Label values: configured endpoint names; result active|inactive|timeout|unreachable|http_error|invalid_response. */
  readonly introspectionRequests = new Counter({
    name: 'keycard_introspection_requests_total',
    help: 'Token introspection calls, by endpoint and result (active|inactive|timeout|unreachable|http_error|invalid_response).',
    labelNames: ['endpoint', 'result'] as const,
    registers: [this.registry],
  });
  readonly introspectionCacheLookups = new Counter({
    name: 'keycard_introspection_cache_lookups_total',
    help: 'Introspection cache lookups, by endpoint and result (hit|miss).',
    labelNames: ['endpoint', 'result'] as const,
    registers: [this.registry],
  });
  readonly jwksFetches = new Counter({
    name: 'keycard_jwks_fetches_total',
    help: 'JWKS loads per issuer, by result (ok|error).',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: 'keycard_policy_reloads_total',
    help: 'Policy (re)loads, by result (ok|error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly dryRunDenies = new Counter({
    name: 'keycard_dry_run_denies_total',
    help: 'Requests allowed only because of dry-run, by service and the rule that would have denied (_none: no rule allowed).',
    labelNames: ['service', 'rule', 'reason'] as const,
    registers: [this.registry],
  });
  readonly auditDropped = new Counter({
    name: 'keycard_audit_dropped_total',
    help: 'Audit lines dropped because the audit sink could not keep up.',
    registers: [this.registry],
  });
  readonly explorerRecordsDropped = new Counter({
    name: 'keycard_explorer_records_dropped_total',
    help: 'Decision explorer records a cluster worker dropped because the primary did not take them in time (the explorer misses those decisions; the audit log has them).',
    registers: [this.registry],
  });
  private readonly traceSpansExported = new Counter({
    name: 'keycard_trace_spans_exported_total',
    help: 'Trace spans the OTLP collector accepted (settings `tracing`).',
    registers: [this.registry],
  });
  private readonly traceSpansDropped = new Counter({
    name: 'keycard_trace_spans_dropped_total',
    help: 'Trace spans never delivered, by reason: queue_full (the collector is slow or down), export_failed (a batch was refused or timed out), shutdown.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** For tracing (src/tracing/tracer.ts); the reasons start at 0 once tracing is on, so dashboards see them. */
  readonly traceSpans = {
    enable: () => {
      for (const reason of ['queue_full', 'export_failed', 'shutdown'] as const) this.traceSpansDropped.inc({ reason }, 0);
    },
    exported: (count: number) => this.traceSpansExported.inc(count),
    dropped: (reason: 'queue_full' | 'export_failed' | 'shutdown', count: number) => this.traceSpansDropped.inc({ reason }, count),
  };

  private readonly storeOperations = new SlotCounter({
    name: 'keycard_store_operations_total',
    help: 'Live-state reads (rolesFor|subjectsOf|revocationFor|apiKey|session|subjectProperties) by result: ok (cache or store), stale (store failed, a cached answer within maxStale served), error.',
    labelNames: ['op', 'result'] as const,
    registers: [this.registry],
  });
  private readonly storeDuration = new SlotHistogram({
    name: 'keycard_store_duration_seconds',
    help: 'Duration of reads from the backing store (cache misses), by op.',
    labelNames: ['op'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly storeCacheHits = new SlotCounter({
    name: 'keycard_store_cache_hits_total',
    help: 'Live-state reads answered from the cache, by op.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  private readonly storeCacheMisses = new SlotCounter({
    name: 'keycard_store_cache_misses_total',
    help: 'Live-state reads that asked the backing store, by op.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  private readonly storeInvalidations = new Counter({
    name: 'keycard_store_invalidations_total',
    help: 'Changes from the store feed that invalidated cached state, by kind (roles|tuples|revocation|apiKey|session|subject|flush).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  /** For the caching store: every label value comes from a fixed set. */
  readonly store: StoreObserver = {
    operation: (op, result) => this.storeOperations.inc({ op, result }),
    innerCall: (op, seconds) => this.storeDuration.observe({ op }, seconds),
    cacheLookup: (op, hit) => (hit ? this.storeCacheHits : this.storeCacheMisses).inc({ op }),
    invalidation: (kind) => this.storeInvalidations.inc({ kind }),
  };

  constructor(private readonly knownService: (service: string) => boolean) {
    collectDefaultMetrics({ register: this.registry });
  }

  recordDecision(decision: Decision): void {
    const service = decision.service && this.knownService(decision.service) ? decision.service : UNKNOWN_SERVICE_LABEL;
    const verdict = decisionLabel(decision);
    this.decisions.inc({ service, decision: verdict, reason: decision.dryRun?.reason ?? decision.reason });
    if (decision.dryRun) this.dryRunDenies.inc({ service, rule: decision.dryRun.ruleId ?? '_none', reason: decision.dryRun.reason });
    this.checkDuration.observe({ decision: verdict }, decision.durationMs / 1000);
    const { phaseMs } = decision;
    for (const phase in phaseMs) this.phaseDuration.observe({ phase }, phaseMs[phase as Phase]! / 1000);
  }
}
