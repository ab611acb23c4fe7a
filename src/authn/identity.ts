// Who is calling, as established by the identity phase. Roles are not here: they come from the
// live store in the state phase, never from the credential.
import type { JWTPayload } from 'jose';

/**
 * How the caller proved who they are. `jwt`: a bearer JWT keycard verified. `envoy_jwt`: a JWT
 * Envoy's jwt_authn filter verified (the payload arrives in the CheckRequest metadata).
 * `api_key`: a key from the store. `introspection`: an opaque token an RFC 7662 endpoint called
 * active. `session`: a session cookie resolved in the store. `mtls`: the peer certificate's
 * identity as Envoy reports it. `authzen`: no credential at all: the subject of an access question,
 * asserted by the AuthZEN caller that asked (which was authenticated and allowed to ask); its
 * claims hold only `sub`, so conditions on a credential (scope, mfa, acr, claims) never hold for it.
 */
export type CredentialKind = 'jwt' | 'envoy_jwt' | 'api_key' | 'introspection' | 'session' | 'mtls' | 'authzen';

/** The credentials a policy's `authentication` can accept (`authzen` is never presented in a request). */
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['jwt', 'envoy_jwt', 'api_key', 'introspection', 'session', 'mtls'];

export interface AnonymousIdentity {
  readonly authenticated: false;
}

export interface AuthenticatedIdentity {
  readonly authenticated: true;
  readonly subject: string;
  /**
   * Who vouches for the subject, by configured name: the issuer name (`corp-idp`) for JWTs, the
   * introspection endpoint's name, `api-key`, `session` or `mtls`.
   */
  readonly issuer: string;
  readonly credential: CredentialKind;
  /**
   * Verified claims. For credentials that are not JWTs, the equivalent facts in claim form
   * (`sub`, `scope`, `exp`, `sid` for sessions, `jti` for an API key id), so conditions such as
   * `scope:` and revocations apply to every credential the same way.
   */
  readonly claims: Readonly<JWTPayload>;
  /** Seconds since the epoch; the identity must not be trusted past it. */
  readonly expiresAt: number;
}

export type Identity = AnonymousIdentity | AuthenticatedIdentity;

export const ANONYMOUS: AnonymousIdentity = Object.freeze({ authenticated: false });
