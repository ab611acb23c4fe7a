// What a peer principal (an mTLS identity: a SPIFFE ID, another URI SAN, or a certificate
// subject) must look like before it becomes a subject or a policy pattern.

/** Longest principal accepted (the SPIFFE limit for an ID). */
export const MAX_PRINCIPAL_LENGTH = 2048;

// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\x00-\x1f\x7f]/;
const SPIFFE_PREFIX = /^spiffe:\/\//i;
/** SPIFFE ID spec §2.1: lower-case letters, digits, ".", "-", "_". */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
/** SPIFFE ID spec §2.2: letters, digits, ".", "-", "_". */
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Why `principal` is not acceptable, or undefined. */
export function principalProblem(principal: string): string | undefined {
  if (principal === '') return 'the principal is empty';
  if (principal.length > MAX_PRINCIPAL_LENGTH) return `the principal is longer than ${MAX_PRINCIPAL_LENGTH} characters`;
  if (CONTROL.test(principal)) return 'the principal contains control characters';
  if (SPIFFE_PREFIX.test(principal)) return spiffeIdProblem(principal);
  return undefined;
}

/**
 * Why `id` is not a well-formed SPIFFE ID (`spiffe://trust-domain/path`, a path required, no
 * empty, "." or ".." segments, no query, fragment, port or user info), or undefined.
 */
export function spiffeIdProblem(id: string): string | undefined {
  if (!id.startsWith('spiffe://')) return 'the SPIFFE ID scheme must be "spiffe" in lower case';
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(trustDomain)) return `the SPIFFE trust domain ${JSON.stringify(trustDomain)} may use only a-z, 0-9, ".", "-" and "_"`;
  if (slash < 0 || slash === rest.length - 1) return 'the SPIFFE ID has no path below the trust domain';
  for (const segment of rest.slice(slash + 1).split('/')) {
    if (segment === '.' || segment === '..') return 'the SPIFFE ID path has a "." or ".." segment';
    if (!PATH_SEGMENT.test(segment)) return `the SPIFFE ID path segment ${JSON.stringify(segment)} is empty or uses characters other than letters, digits, ".", "-" and "_"`;
  }
  return undefined;
}
