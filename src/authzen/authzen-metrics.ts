// AuthZEN counters, registered on keycard's registry beside the decision metrics (which the
// access decider reports per service and reason, like Check's). Labels are bounded: endpoint
// names from a fixed list, HTTP status codes, allow|deny. Slot counters (src/metrics/slot-metrics.ts),
// as the decision metrics: a batch counts a decision per item, and prom-client's own counters
// validate and hash the label object on every call.
import type { Registry } from 'prom-client';
import { SlotCounter, type CounterSlot } from '../metrics/slot-metrics.js';

type RequestLabel = 'endpoint' | 'status';
type DecisionLabel = 'endpoint' | 'decision';

export class AuthzenMetrics {
  readonly requests: SlotCounter<RequestLabel>;
  readonly decisions: SlotCounter<DecisionLabel>;
  /** The decision slots by endpoint, [deny, allow], each made when first counted (as prom-client shows a label set once counted). */
  private readonly decisionSlots = new Map<string, [CounterSlot | undefined, CounterSlot | undefined]>();

  constructor(registry: Registry) {
    this.requests = new SlotCounter({
      name: 'keycard_authzen_requests_total',
      help: 'AuthZEN API requests, by endpoint (evaluation|evaluations|searchSubject|searchResource|searchAction|metadata|other) and HTTP status.',
      labelNames: ['endpoint', 'status'],
      registers: [registry],
    });
    this.decisions = new SlotCounter({
      name: 'keycard_authzen_decisions_total',
      help: 'Decisions made for AuthZEN callers, by endpoint (evaluation|evaluations|search) and decision (allow|deny).',
      labelNames: ['endpoint', 'decision'],
      registers: [registry],
    });
  }

  request(endpoint: string, status: number): void {
    this.requests.inc({ endpoint, status: String(status) });
  }

  decision(endpoint: string, allowed: boolean): void {
    let slots = this.decisionSlots.get(endpoint);
    if (!slots) this.decisionSlots.set(endpoint, (slots = [undefined, undefined]));
    const at = allowed ? 1 : 0;
    (slots[at] ??= this.decisions.slot({ endpoint, decision: allowed ? 'allow' : 'deny' })).inc();
  }
}
