// The spans of one traced decision: `keycard.check` (SERVER, child of the proxy's span) and under
// it one span per phase (route, identity, state, authorize, respond), with store reads and JWKS
// fetches under the phase they happen in. Each phase ends at the pipeline's own timing mark
// (PhaseObserver.phase), and the next one is opened at that mark, live, so that store and JWKS
// spans started during it have a parent and a deny mid-phase shows in the phase it happened in.
// An AuthZEN evaluation is the same decision under its request's span (authzen-trace.ts): a
// `keycard.evaluation` span with the same phases and attributes, and no respond phase of its own.
//
// A deny is not an error: the decision span's status stays unset. Reasons that mean keycard could
// not decide (internal_error, store_unavailable and the other 503s) set status ERROR and error.type.
import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { decisionLabel, type Decision, type Phase, type PhaseObserver } from '../pipeline/types.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  KEYCARD_CREDENTIAL,
  KEYCARD_DECISION,
  KEYCARD_DECISION_ID,
  KEYCARD_ISSUER,
  KEYCARD_POLICY_VERSION,
  KEYCARD_REASON,
  KEYCARD_RULE_ID,
  KEYCARD_SERVICE,
  KEYCARD_STATUS,
  SPAN_PHASE_PREFIX,
} from './attributes.js';
import { runInScope } from './scope.js';
import { TracedRequest } from './traced-request.js';

/** The phase that follows each one; the pipeline always runs them in this order. */
const NEXT_PHASE: Readonly<Record<Phase, Phase | undefined>> = { route: 'identity', identity: 'state', state: 'authorize', authorize: undefined };

type TracedPhase = Phase | 'respond';

interface OpenPhase {
  readonly phase: TracedPhase;
  readonly span: Span;
  /** The context child spans of this phase are started in. */
  readonly context: Context;
}

/** How the answer went out: the HTTP status of an HTTP check answer, or the failure that replaced it. */
export interface CheckEnd {
  readonly httpStatus?: number;
  readonly error?: unknown;
}

/** The `keycard.check` span of a Check (or an AuthZEN request's `keycard.evaluation`) and its phases. */
export class DecisionTrace extends TracedRequest implements PhaseObserver {
  private open: OpenPhase | undefined;

  within<T>(phases: () => Promise<T>): Promise<T> {
    // Opened live like the others, so that a request denied while routing shows where it stopped.
    this.open = this.openPhase('route', performance.now());
    return runInScope(this.scope, phases);
  }

  phase(phase: Phase, start: number, end: number): void {
    if (this.ended) return;
    const open = this.open;
    if (open?.phase === phase) open.span.end(this.time(end));
    // Not opened ahead (phases out of the expected order): made whole from the pipeline's marks.
    else this.tracer.startSpan(SPAN_PHASE_PREFIX + phase, { startTime: this.time(start) }, this.spanContext).end(this.time(end));
    const next = NEXT_PHASE[phase];
    this.open = next === undefined ? undefined : this.openPhase(next, end);
  }

  protected childContext(): Context | undefined {
    return this.open?.context;
  }

  /** The decision is made: records it, closes the phase it ended in (a deny mid-phase) and opens `respond`. */
  responding(decision: Decision): void {
    if (this.ended) return;
    const now = performance.now();
    this.record(decision, now);
    this.open = this.openPhase('respond', now);
  }

  /**
   * The decision is made and there is no answer of its own to send (one evaluation of an AuthZEN
   * request, whose answer the request span covers): records it and ends the decision span.
   */
  finish(decision: Decision): void {
    if (this.ended) return;
    const now = performance.now();
    this.record(decision, now);
    this.ended = true;
    this.span.end(this.time(now));
  }

  /** The decision's attributes on its span; the phase it ended in is closed at `now`. */
  private record(decision: Decision, now: number): void {
    const reason = decision.dryRun?.reason ?? decision.reason;
    const failed = reason === 'internal_error' || decision.status >= 500;
    const open = this.open;
    if (open !== undefined) {
      open.span.setAttribute(KEYCARD_REASON, reason);
      if (failed) open.span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
      open.span.end(this.time(now));
      this.open = undefined;
    }
    const { span } = this;
    span.setAttribute(KEYCARD_DECISION_ID, decision.id);
    span.setAttribute(KEYCARD_DECISION, decisionLabel(decision));
    span.setAttribute(KEYCARD_REASON, reason);
    span.setAttribute(KEYCARD_STATUS, decision.status);
    if (decision.service !== undefined) span.setAttribute(KEYCARD_SERVICE, decision.service);
    const ruleId = decision.ruleId ?? decision.dryRun?.ruleId;
    if (ruleId !== undefined) span.setAttribute(KEYCARD_RULE_ID, ruleId);
    if (decision.policyVersion !== undefined) span.setAttribute(KEYCARD_POLICY_VERSION, decision.policyVersion);
    if (decision.identity.authenticated) {
      span.setAttribute(KEYCARD_CREDENTIAL, decision.identity.credential);
      span.setAttribute(KEYCARD_ISSUER, decision.identity.issuer);
    }
    if (failed) {
      span.setAttribute(ATTR_ERROR_TYPE, reason);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
  }

  /** The answer is out (or failed to be made): ends `respond` and the decision span. */
  end(outcome: CheckEnd = {}): void {
    if (this.ended) return;
    this.ended = true;
    const now = performance.now();
    const { span } = this;
    if (outcome.httpStatus !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.httpStatus);
    if (outcome.error !== undefined) {
      // Failed outside the pipeline: the caller answered with a plain internal_error deny.
      const type = outcome.error instanceof Error ? outcome.error.name : 'unknown';
      this.open?.span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      span.setAttribute(KEYCARD_DECISION, 'deny');
      span.setAttribute(KEYCARD_REASON, 'internal_error');
      span.setAttribute(ATTR_ERROR_TYPE, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'internal_error' });
    }
    const at = this.time(now);
    this.open?.span.end(at);
    this.open = undefined;
    span.end(at);
  }

  private openPhase(phase: TracedPhase, start: number): OpenPhase {
    const span = this.tracer.startSpan(SPAN_PHASE_PREFIX + phase, { startTime: this.time(start) }, this.spanContext);
    return { phase, span, context: trace.setSpan(ROOT_CONTEXT, span) };
  }
}
