// One adversarial case: a name, how its CheckRequest is built, and what keycard must answer.
// Every expectation is a complete decision (allow, or deny status + reason); a crash, a hang or a
// gRPC error fails the case (except the one documented transport limit, `grpcError`).
import type { DenyReason, DenyStatus } from '../../src/errors.js';
import type { CheckRequest } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import type { Ctx } from './harness.js';

export interface AllowExpectation {
  readonly allow: true;
  /** The x-keycard-subject keycard sets; absent: keycard sets none (anonymous or not forwarded). */
  readonly subject?: string;
  /** Client-sent headers that must not reach the service: removed, or overwritten by keycard. */
  readonly strips?: readonly string[];
}

export interface DenyExpectation {
  readonly status: DenyStatus;
  readonly reason: DenyReason;
}

/** gRPC rejected the call before keycard saw it (only grpc.maxMessageBytes does this). */
export interface GrpcErrorExpectation {
  readonly grpcError: 'RESOURCE_EXHAUSTED';
}

export type Expectation = AllowExpectation | DenyExpectation | GrpcErrorExpectation;

export interface AdversarialCase {
  readonly name: string;
  readonly request: (ctx: Ctx) => CheckRequest;
  readonly expect: Expectation;
  /** The answer must come within this many milliseconds (default 3000: anything slower is a hang). */
  readonly withinMs?: number;
  /** A request sent (and answered) first, e.g. to put a token in keycard's cache. */
  readonly prime?: (ctx: Ctx) => CheckRequest;
  /** Extra assertions after the answer (e.g. that keycard fetched no URL a token named). */
  readonly verify?: (ctx: Ctx, response: CheckResponse__Output) => void;
}

export const allow = (subject?: string, strips?: readonly string[]): AllowExpectation => ({
  allow: true,
  ...(subject !== undefined && { subject }),
  ...(strips && { strips }),
});

export const deny = (status: DenyStatus, reason: DenyReason): DenyExpectation => ({ status, reason });

/** A value computed once per suite context (a token two requests must share). */
export function perCtx<T>(make: (ctx: Ctx) => T): (ctx: Ctx) => T {
  const values = new WeakMap<Ctx, T>();
  return (ctx) => {
    if (!values.has(ctx)) values.set(ctx, make(ctx));
    return values.get(ctx)!;
  };
}
