// AuthZEN counters, registered on keycard's registry beside the decision metrics (which the
// access decider reports per service and reason, like Check's). Labels are bounded: endpoint
// names from a fixed list, HTTP status codes, allow|deny.
import { Counter, type Registry } from 'prom-client';

export class AuthzenMetrics {
  readonly requests: Counter<'endpoint' | 'status'>;
  readonly decisions: Counter<'endpoint' | 'decision'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'keycard_authzen_requests_total',
      help: 'AuthZEN API requests, by endpoint (evaluation|evaluations|searchSubject|searchResource|searchAction|metadata|other) and HTTP status.',
      labelNames: ['endpoint', 'status'] as const,
      registers: [registry],
    });
    this.decisions = new Counter({
      name: 'keycard_authzen_decisions_total',
      help: 'Decisions made for AuthZEN callers, by endpoint (evaluation|evaluations|search) and decision (allow|deny).',
      labelNames: ['endpoint', 'decision'] as const,
      registers: [registry],
    });
  }
}
