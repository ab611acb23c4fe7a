// Who is calling, as established by the identity phase. Roles are not here: they come from the
// live store in the state phase, never from the credential.
import type { JWTPayload } from 'jose';

export interface AnonymousIdentity {
  readonly authenticated: false;
}

export interface AuthenticatedIdentity {
  readonly authenticated: true;
  readonly subject: string;
  /** Configured issuer name (not the `iss` URL), e.g. `corp-idp`. */
  readonly issuer: string;
  readonly credential: 'jwt';
  /** Verified claims. */
  readonly claims: Readonly<JWTPayload>;
  /** Seconds since the epoch; the identity must not be trusted past it. */
  readonly expiresAt: number;
}

export type Identity = AnonymousIdentity | AuthenticatedIdentity;

export const ANONYMOUS: AnonymousIdentity = Object.freeze({ authenticated: false });
