// `exp`, `nbf` and `iat` of a credential another party verified (an Envoy jwt_authn payload, an
// introspection answer): keycard checks them itself, with the configured clock skew, the same way
// for both. (JWTs keycard verifies are checked by jose.)
import type { DenyReason } from '../errors.js';

export interface TimeClaimProblem {
  readonly reason: Extract<DenyReason, 'invalid_claims' | 'token_expired' | 'token_not_yet_valid'>;
  readonly detail: string;
}

/**
 * The first problem with the time claims, or undefined: non-numbers, a missing `exp` when
 * required, `exp` passed, `nbf` or `iat` ahead. A token "issued" later than now would outlive a
 * revocation of the subject's tokens issued before now (JWTs keycard verifies are held to the same).
 */
export function timeClaimProblem(
  claims: Readonly<Record<string, unknown>>,
  options: { readonly nowMs: number; readonly clockSkewMs: number; readonly requireExp: boolean },
): TimeClaimProblem | undefined {
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value = claims[name];
    if (value !== undefined && !Number.isFinite(value)) return { reason: 'invalid_claims', detail: `"${name}" must be a number` };
  }
  const { exp, nbf, iat } = claims as { exp?: number; nbf?: number; iat?: number };
  if (exp === undefined && options.requireExp) return { reason: 'invalid_claims', detail: '"exp" is missing' };
  const nowSeconds = options.nowMs / 1000;
  const skewSeconds = Math.round(options.clockSkewMs / 1000);
  if (exp !== undefined && exp <= nowSeconds - skewSeconds) return { reason: 'token_expired', detail: `"exp" ${exp} has passed` };
  if (nbf !== undefined && nbf > nowSeconds + skewSeconds) return { reason: 'token_not_yet_valid', detail: `"nbf" ${nbf} lies in the future` };
  if (iat !== undefined && iat > nowSeconds + skewSeconds) return { reason: 'token_not_yet_valid', detail: `"iat" ${iat} lies in the future` };
  return undefined;
}
