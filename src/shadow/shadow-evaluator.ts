// Decides every request (and every access question, AuthZEN) again against the candidate policy
// set, after the enforced answer has gone: schedule() and scheduleAccess() only count the
// evaluation in and defer it with setImmediate, so the answers never wait for it. The candidate
// decides through the same Pipeline or AccessDecider (route, dry-run, conditions, relations
// through the caching store) for the enforced caller. Bounded: past maxInFlight evaluations
// waiting or running, new ones are dropped and counted, never queued.
import type { BlockList } from 'node:net';
import { AccessDecider } from '../access/access-decider.js';
import type { AccessQuestion } from '../access/types.js';
import type { ShadowDisagreementRecord } from '../audit/audit-log.js';
import type { Logger } from '../log/logger.js';
import { Pipeline, type PipelineLimits } from '../pipeline/pipeline.js';
import type { AuthzInput, Decision } from '../pipeline/types.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import type { CallerContext } from '../policy/evaluate.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { StateStore } from '../state/store.js';
import { compareDecisions, NO_RULE_LABEL, type Comparison } from './compare.js';
import { enforcedCaller } from './enforced-caller.js';
import type { EvaluationResult, ShadowMetrics } from './shadow-metrics.js';

/** The `service` label when neither set routed the request. */
const UNKNOWN_SERVICE_LABEL = '_unknown';

export interface ShadowEvaluatorDeps {
  readonly candidate: () => PolicySet | undefined;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly limits: PipelineLimits;
  readonly trustedProxies?: BlockList;
  readonly maxInFlight: number;
  readonly metrics: ShadowMetrics;
  readonly audit: (record: ShadowDisagreementRecord) => void;
  readonly logger: Logger;
  /** Told of every finished evaluation (tests). */
  readonly onEvaluated?: (result: EvaluationResult, comparison?: Comparison) => void;
}

/** Unexpected evaluation failures are logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 60_000;

export class ShadowEvaluator {
  private running = 0;
  private closed = false;
  private idle: (() => void)[] = [];
  private lastErrorLog = 0;

  constructor(private readonly deps: ShadowEvaluatorDeps) {}

  /** Evaluations scheduled or running. */
  get inFlight(): number {
    return this.running;
  }

  /** The Pipeline's shadow hook: schedules, never evaluates. */
  readonly schedule = (decision: Decision, input: AuthzInput, caller: CallerContext | undefined): void => {
    this.later(decision, () => this.evaluate(decision, input, caller));
  };

  /** The AccessDecider's shadow hook (AuthZEN questions): schedules, never evaluates. */
  readonly scheduleAccess = (decision: Decision, question: AccessQuestion, caller: CallerContext | undefined): void => {
    this.later(decision, () => this.evaluateAccess(decision, question, caller));
  };

  /** Stops scheduling; resolves once the evaluations under way finish, or after `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Runs `evaluation` after the enforced answer has gone, unless too many are in flight already. */
  private later(decision: Decision, evaluation: () => Promise<void>): void {
    if (this.closed || this.running >= this.deps.maxInFlight) {
      this.finish(decision.service ?? UNKNOWN_SERVICE_LABEL, 'dropped');
      return;
    }
    this.running++;
    setImmediate(() => {
      evaluation()
        .catch((error: unknown) => this.failed(decision, error))
        .finally(() => this.done());
    });
  }

  private async evaluate(decision: Decision, input: AuthzInput, caller: CallerContext | undefined): Promise<void> {
    const candidate = this.deps.candidate();
    if (!candidate) return this.finish(decision.service ?? UNKNOWN_SERVICE_LABEL, 'error');
    const enforced = enforcedCaller(decision, caller, this.deps.store);
    const pipeline = new Pipeline({
      policies: () => candidate,
      authenticator: enforced.authenticator,
      store: enforced.store,
      relations: this.deps.relations,
      limits: this.deps.limits,
      ...(this.deps.trustedProxies && { trustedProxies: this.deps.trustedProxies }),
      // Time conditions see the enforced decision's time, not this later moment.
      ...(caller && { now: () => caller.now }),
    });
    const shadow = await pipeline.decide(input);
    if (enforced.unknown()) return this.finish(decision.service ?? shadow.service ?? UNKNOWN_SERVICE_LABEL, 'unevaluated');
    this.compare(decision, shadow, { input });
  }

  /**
   * An access question decided again by the candidate's access rules, for the same subject: its
   * roles are the enforced decision's (the store is not asked again), and its directory record and
   * relations are read as the enforced decision read them (through the caching store). A question
   * the enforced set could not route has no roles yet: the candidate reads them from the store.
   */
  private async evaluateAccess(decision: Decision, question: AccessQuestion, caller: CallerContext | undefined): Promise<void> {
    const candidate = this.deps.candidate();
    if (!candidate) return this.finish(decision.service ?? UNKNOWN_SERVICE_LABEL, 'error');
    const decider = new AccessDecider({
      policies: () => candidate,
      store: caller ? enforcedCaller(decision, caller, this.deps.store).store : this.deps.store,
      relations: this.deps.relations,
      ...(caller && { now: () => caller.now }),
    });
    this.compare(decision, await decider.decide(question), { question });
  }

  /** Counts the comparison; a disagreement is also audited with both sides. */
  private compare(decision: Decision, shadow: Decision, asked: { readonly input: AuthzInput } | { readonly question: AccessQuestion }): void {
    const service = decision.service ?? shadow.service ?? UNKNOWN_SERVICE_LABEL;
    const comparison = compareDecisions(decision, shadow);
    if (comparison.agree) return this.finish(service, 'agree', comparison);
    this.deps.metrics.disagreement(service, comparison.enforced.verdict, comparison.shadow.verdict, comparison.shadow.rule ?? NO_RULE_LABEL);
    this.deps.audit({
      decision,
      ...asked,
      enforced: { decision: comparison.enforced.label, reason: comparison.enforced.reason, rule: comparison.enforced.rule },
      shadow: {
        decision: comparison.shadow.label,
        reason: comparison.shadow.reason,
        rule: comparison.shadow.rule,
        service: shadow.service,
        policyVersion: shadow.policyVersion,
        detail: shadow.detail,
      },
    });
    this.finish(service, 'disagree', comparison);
  }

  private finish(service: string, result: EvaluationResult, comparison?: Comparison): void {
    this.deps.metrics.evaluation(service, result);
    this.deps.onEvaluated?.(result, comparison);
  }

  private failed(decision: Decision, error: unknown): void {
    try {
      this.finish(decision.service ?? UNKNOWN_SERVICE_LABEL, 'error');
    } catch {
      // Counting failed too; the log below is all that is left.
    }
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    this.deps.logger.error({ err: error, decisionId: decision.id }, 'shadow evaluation failed; enforcement is unchanged');
  }

  private done(): void {
    this.running--;
    if (this.running > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
