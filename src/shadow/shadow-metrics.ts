// The shadow policy set's metrics, in keycard's registry. Label values are bounded: services and
// rule ids come from the loaded policy sets, the rest from fixed sets. In cluster mode the primary
// adds the workers' values up: counters sum; the gauges say how many workers have a candidate
// loaded (min: 1 only when all do) and which version (max: 1 for each version some worker has).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Verdict } from './compare.js';

/** agree/disagree: compared; unevaluated: the candidate needed a caller the enforced decision never established; dropped: too many in flight; error: no candidate loaded, or the evaluation failed. */
export type EvaluationResult = 'agree' | 'disagree' | 'unevaluated' | 'dropped' | 'error';

export interface ShadowState {
  /** The loaded candidate's version, undefined while none is loaded. */
  readonly version: () => string | undefined;
  readonly inFlight: () => number;
}

export class ShadowMetrics {
  private readonly evaluations: Counter<'service' | 'result'>;
  private readonly disagreements: Counter<'service' | 'enforced' | 'shadow' | 'rule'>;
  private readonly reloads: Counter<'result'>;

  constructor(registry: Registry, state: ShadowState) {
    const registers = [registry];
    this.evaluations = new Counter({
      name: 'keycard_shadow_evaluations_total',
      help: 'Decisions evaluated again against the shadow (candidate) policy set, by service and result (agree|disagree|unevaluated|dropped|error).',
      labelNames: ['service', 'result'] as const,
      registers,
    });
    this.disagreements = new Counter({
      name: 'keycard_shadow_disagreements_total',
      help: "Decisions the shadow policy set decided otherwise (allow|deny, or another rule), by service, enforced and shadow decision, and the shadow's deciding rule (_none: no rule).",
      labelNames: ['service', 'enforced', 'shadow', 'rule'] as const,
      registers,
    });
    this.reloads = new Counter({
      name: 'keycard_shadow_policy_reloads_total',
      help: 'Shadow policy set (re)loads, by result (ok|error). An error never touches the enforced set.',
      labelNames: ['result'] as const,
      registers,
    });
    new Gauge({
      name: 'keycard_shadow_policy_loaded',
      help: '1 when a shadow policy set is loaded (in every worker), else 0.',
      aggregator: 'min',
      registers,
      collect() {
        this.set(state.version() === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: 'keycard_shadow_policy_info',
      help: 'The version (content hash) of the loaded shadow policy set: 1 for each version loaded.',
      labelNames: ['version'] as const,
      aggregator: 'max',
      registers,
      collect() {
        this.reset();
        const version = state.version();
        if (version !== undefined) this.set({ version }, 1);
      },
    });
    new Gauge({
      name: 'keycard_shadow_in_flight',
      help: 'Shadow evaluations scheduled or running; past the limit (shadow.maxInFlight) new ones are dropped.',
      registers,
      collect() {
        this.set(state.inFlight());
      },
    });
  }

  evaluation(service: string, result: EvaluationResult): void {
    this.evaluations.inc({ service, result });
  }

  disagreement(service: string, enforced: Verdict, shadow: Verdict, rule: string): void {
    this.disagreements.inc({ service, enforced, shadow, rule });
  }

  reload(result: 'ok' | 'error'): void {
    this.reloads.inc({ result });
  }
}
