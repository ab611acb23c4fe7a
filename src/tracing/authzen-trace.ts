// The spans of one traced AuthZEN request: `keycard.authzen` (SERVER, child of the caller's span
// from its traceparent/b3 headers), under it `keycard.authzen.caller` (the caller's
// authentication, with its store reads and JWKS fetches) and one `keycard.evaluation` per
// decision of an evaluation or a batch, each with the phase spans and attributes of a Check's
// decision (decision-trace.ts) plus the endpoint, resource type and action name.
//
// A search decides up to `search.maxChecksPerPage` candidates per page: those decisions are
// counted on the request span (keycard.authzen.decisions / .allowed) and get no span each.
// Hundreds of near-identical spans per request would crowd the bounded export queue (and every
// other request's spans out of it) while telling an operator less than the two counts do; a
// single candidate's decision is explained by the audit log and the decision explorer.
//
// Never the subject or resource id, properties or context: the same rule as Check spans, which
// record no subject either.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { AccessQuestion } from '../access/types.js';
import type { AuthenticatedIdentity } from '../authn/identity.js';
import type { Decision } from '../pipeline/types.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  KEYCARD_AUTHZEN_ACTION,
  KEYCARD_AUTHZEN_ALLOWED,
  KEYCARD_AUTHZEN_DECISIONS,
  KEYCARD_AUTHZEN_ENDPOINT,
  KEYCARD_AUTHZEN_RESOURCE_TYPE,
  KEYCARD_CREDENTIAL,
  KEYCARD_ISSUER,
  KEYCARD_REASON,
  MAX_NAME_LENGTH,
  SPAN_AUTHZEN_CALLER,
  SPAN_EVALUATION,
} from './attributes.js';
import { DecisionTrace } from './decision-trace.js';
import { runInScope } from './scope.js';
import { TracedRequest } from './traced-request.js';

/** How the request's answer went out. */
export interface AuthzenEnd {
  readonly httpStatus: number;
  /** The error code of a 5xx answer (error.type). */
  readonly errorType?: string;
}

export class AuthzenTrace extends TracedRequest {
  /** The caller's authentication span while it runs: store and JWKS spans go under it. */
  private callerSpan: { readonly span: Span; readonly context: Context } | undefined;
  private decisions = 0;
  private allowed = 0;

  constructor(
    tracer: Tracer,
    /** The `keycard.authzen` span; recording. */
    span: Span,
    /** Date.now() - performance.now() when the request arrived; its evaluations use it too. */
    epochOffset: number,
    private readonly endpoint: string,
  ) {
    super(tracer, span, epochOffset);
  }

  /**
   * Authenticates the caller inside `keycard.authzen.caller`: the identity's credential and issuer
   * go on the request span, a refusal's reason on the caller span.
   */
  async authenticating<T extends { readonly ok: boolean; readonly identity?: AuthenticatedIdentity; readonly reason?: string }>(work: () => Promise<T>): Promise<T> {
    const span = this.tracer.startSpan(SPAN_AUTHZEN_CALLER, { startTime: this.time() }, this.spanContext);
    this.callerSpan = { span, context: trace.setSpan(ROOT_CONTEXT, span) };
    try {
      const outcome = await runInScope(this.scope, work);
      if (outcome.ok && outcome.identity) {
        this.span.setAttribute(KEYCARD_CREDENTIAL, outcome.identity.credential);
        this.span.setAttribute(KEYCARD_ISSUER, outcome.identity.issuer);
      } else if (outcome.reason !== undefined) {
        span.setAttribute(KEYCARD_REASON, outcome.reason);
      }
      return outcome;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'unknown' });
      throw error;
    } finally {
      this.callerSpan = undefined;
      span.end(this.time());
    }
  }

  /** Runs request-level work (the caller-scope check) so that its store reads are children of the request span. */
  within<T>(work: () => Promise<T>): Promise<T> {
    return runInScope(this.scope, work);
  }

  protected childContext(): Context | undefined {
    return this.callerSpan?.context;
  }

  /** The trace of one evaluation of this request (not for search candidates: see above); undefined once the request has ended. */
  evaluation(question: Pick<AccessQuestion, 'action' | 'resource'>): DecisionTrace | undefined {
    if (this.ended) return undefined;
    const span = this.tracer.startSpan(
      SPAN_EVALUATION,
      {
        kind: SpanKind.INTERNAL,
        startTime: this.time(),
        attributes: {
          [KEYCARD_AUTHZEN_ENDPOINT]: this.endpoint,
          [KEYCARD_AUTHZEN_RESOURCE_TYPE]: question.resource.type.slice(0, MAX_NAME_LENGTH),
          [KEYCARD_AUTHZEN_ACTION]: question.action.name.slice(0, MAX_NAME_LENGTH),
        },
      },
      this.spanContext,
    );
    return span.isRecording() ? new DecisionTrace(this.tracer, span, this.epochOffset) : undefined;
  }

  /** A decision of this request was made (traced or counted only); `decision` undefined when making it failed. */
  decided(decision: Decision | undefined, evaluation: DecisionTrace | undefined, error?: unknown): void {
    this.decisions++;
    if (decision?.allowed) this.allowed++;
    if (decision !== undefined) evaluation?.finish(decision);
    else evaluation?.end({ error });
  }

  /** The answer is out: ends the request span. 4xx answers are the caller's doing, not errors; 5xx are. */
  end(outcome: AuthzenEnd): void {
    if (this.ended) return;
    this.ended = true;
    const { span } = this;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.httpStatus);
    span.setAttribute(KEYCARD_AUTHZEN_DECISIONS, this.decisions);
    span.setAttribute(KEYCARD_AUTHZEN_ALLOWED, this.allowed);
    if (outcome.httpStatus >= 500) {
      const type = outcome.errorType ?? String(outcome.httpStatus);
      span.setAttribute(ATTR_ERROR_TYPE, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    }
    span.end(this.time());
  }
}
