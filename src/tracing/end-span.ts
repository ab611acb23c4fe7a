// Ends a child span (store read, JWKS fetch) when its work settles.
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { ScopedDecision } from './scope.js';
import { ATTR_ERROR_TYPE } from './attributes.js';

/**
 * Ends `span` once `work` settles, on the decision's clock. A failure sets status ERROR and error.type to the error's
 * class name, never its message: a store or fetch error may quote a key, a subject or a URL.
 */
export async function endWith<T>(span: Span, decision: ScopedDecision, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const type = error instanceof Error ? error.name : 'unknown';
    span.setAttribute(ATTR_ERROR_TYPE, type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    throw error;
  } finally {
    span.end(decision.time());
  }
}
