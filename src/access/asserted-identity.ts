// The subject of an access question as an Identity. It was not proven by a credential here: the
// AuthZEN caller that asked (authenticated, and allowed by the policy's `authzen.callers`)
// asserts it. So it carries credential `authzen`, issuer `authzen` and no claims but `sub`:
// conditions on a credential (scope, mfa, acr, maxAuthAge, claim) never hold for it, and there is
// no token to revoke.
import type { AuthenticatedIdentity } from '../authn/identity.js';
import type { AccessSubject } from './types.js';

export const ASSERTED_ISSUER = 'authzen';

export function assertedIdentity(subject: AccessSubject): AuthenticatedIdentity {
  return Object.freeze({
    authenticated: true,
    subject: subject.id,
    issuer: ASSERTED_ISSUER,
    credential: 'authzen',
    claims: Object.freeze({ sub: subject.id }),
    // Valid for this one decision; nothing keeps it.
    expiresAt: Number.MAX_SAFE_INTEGER,
  } as const);
}
