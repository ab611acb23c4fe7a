// The live shadow policy (settings `shadow`): the candidate set, its metrics and the evaluator,
// put together for the composition root. keycard with a shadow enforces exactly what it would
// without one; the shadow only counts, audits and reports.
import type { BlockList } from 'node:net';
import type { Registry } from 'prom-client';
import type { ShadowDisagreementRecord } from '../audit/audit-log.js';
import type { Logger } from '../log/logger.js';
import type { PipelineLimits } from '../pipeline/pipeline.js';
import type { CompileOptions } from '../policy/compile.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import type { StateStore } from '../state/store.js';
import { ShadowEvaluator } from './shadow-evaluator.js';
import { ShadowMetrics } from './shadow-metrics.js';
import { ShadowPolicies } from './shadow-policies.js';

export interface ShadowSettings {
  readonly dir: string;
  readonly watch: boolean;
  readonly maxInFlight: number;
}

export interface ShadowOptions {
  readonly settings: ShadowSettings;
  readonly compile: CompileOptions;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly limits: PipelineLimits;
  readonly trustedProxies?: BlockList;
  readonly registry: Registry;
  readonly audit: (record: ShadowDisagreementRecord) => void;
  readonly logger: Logger;
}

/** How long stop() waits for shadow evaluations under way (their audit lines) before going on. */
const CLOSE_TIMEOUT_MS = 1_000;

export class Shadow {
  readonly policies: ShadowPolicies;
  readonly evaluator: ShadowEvaluator;

  constructor(options: ShadowOptions) {
    const { settings, logger } = options;
    const metrics = new ShadowMetrics(options.registry, { version: () => this.policies.current?.version, inFlight: () => this.evaluator.inFlight });
    this.policies = new ShadowPolicies({ ...options.compile, dir: settings.dir, watch: settings.watch, logger, onReload: (result) => metrics.reload(result) });
    this.evaluator = new ShadowEvaluator({
      candidate: () => this.policies.current,
      store: options.store,
      relations: options.relations,
      limits: options.limits,
      ...(options.trustedProxies && { trustedProxies: options.trustedProxies }),
      maxInFlight: settings.maxInFlight,
      metrics,
      audit: options.audit,
      logger,
    });
  }

  /** The Pipeline's `shadow` hook. */
  get hook(): ShadowEvaluator['schedule'] {
    return this.evaluator.schedule;
  }

  /** The AccessDecider's `shadow` hook (AuthZEN questions). */
  get accessHook(): ShadowEvaluator['scheduleAccess'] {
    return this.evaluator.scheduleAccess;
  }

  load(): Promise<void> {
    return this.policies.load();
  }

  /** For /readyz: problems of the candidate, shown without making keycard not ready. */
  warnings(): string[] {
    return this.policies.warnings();
  }

  async close(): Promise<void> {
    this.policies.close();
    await this.evaluator.close(CLOSE_TIMEOUT_MS);
  }
}
