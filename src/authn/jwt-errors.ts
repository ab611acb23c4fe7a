// Maps jose's verification errors onto the catalogue's deny reasons.
import { errors } from 'jose';
import type { DenyReason } from '../errors.js';
import { JwksUnavailableError } from './key-set.js';

export function denyReasonForJwtError(error: unknown): DenyReason {
  if (error instanceof JwksUnavailableError) return 'jwks_unavailable';
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    // jose's reason: "check_failed" when a well-formed claim does not hold, "missing" when it is
    // absent, "invalid" when it is malformed. Only a failed check of nbf/iat means "not yet valid".
    if (error.claim === 'aud' && error.reason !== 'invalid') return 'invalid_audience';
    if (error.reason !== 'check_failed') return 'invalid_claims';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'token_not_yet_valid';
    if (error.claim === 'iss') return 'untrusted_issuer';
    return 'invalid_claims';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'disallowed_algorithm';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid_signature';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  if (error instanceof errors.JOSEError) return 'malformed_token';
  return 'internal_error';
}
