// The identity phase's parts. A service's policy lists the credentials it accepts, in order of
// precedence (AuthenticationConfig). Each kind has a provider that finds its credential in the
// request without I/O (CredentialProvider.find) and verifies it on demand (PresentedCredential).
import type { ReadOptions } from '../../state/store.js';
import type { AuthenticatedIdentity, CredentialKind } from '../identity.js';

/** What the identity phase may read of a request. Built once per request (request-source.ts). */
export interface CredentialRequest {
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** A cookie from the Cookie header(s). Two cookies of the same name are malformed (DenyError). */
  cookie(name: string): string | undefined;
  /** A query parameter of the request target. Two of the same name are malformed (DenyError). */
  query(name: string): string | undefined;
  /** The peer identity Envoy reports (`source.principal`: URI SAN / SPIFFE ID, or subject). */
  readonly peerPrincipal: string | undefined;
  /** The immediate peer's address (whether its x-forwarded-client-cert may be believed). */
  readonly peerAddress: string | undefined;
  /** `metadata_context.filter_metadata` of the CheckRequest, as plain JSON by filter name. */
  readonly filterMetadata: Readonly<Record<string, unknown>>;
  /** How store reads (API keys, sessions) behave when the store fails: the service's `store.onError`. */
  readonly storeReads: ReadOptions;
}

/** One accepted credential of a service, from the policy's `authentication.credentials`. */
export type CredentialSpec =
  | {
      readonly kind: 'jwt';
      /** Header carrying `Bearer <jwt>`; `authorization` by default. */
      readonly header: string;
      /** Issuer names accepted; undefined accepts every configured issuer. */
      readonly issuers: readonly string[] | undefined;
      /** Required `typ` header values (e.g. `at+jwt`, RFC 9068); undefined accepts any. */
      readonly types: readonly string[] | undefined;
    }
  | {
      readonly kind: 'envoy_jwt';
      /** Key under `envoy.filters.http.jwt_authn` where Envoy put the payload (`payload_in_metadata`). */
      readonly metadataKey: string;
      /** The header jwt_authn read the token from: the same credential, never counted twice. */
      readonly header: string;
      readonly issuers: readonly string[] | undefined;
    }
  | { readonly kind: 'api_key'; readonly header: string | undefined; readonly query: string | undefined }
  | {
      readonly kind: 'introspection';
      readonly header: string;
      /** Introspection endpoint names from the settings file. */
      readonly endpoints: readonly string[];
    }
  | { readonly kind: 'session'; readonly cookie: string }
  | {
      readonly kind: 'mtls';
      /** Believe `x-forwarded-client-cert` from a trusted proxy (network.trustedProxies). */
      readonly forwardedClientCert: boolean;
    };

export type CredentialSpecOf<K extends CredentialKind> = Extract<CredentialSpec, { kind: K }>;

export interface AuthenticationConfig {
  /** Accepted credentials, in order of precedence. */
  readonly credentials: readonly CredentialSpec[];
  /**
   * More than one credential in the request: `reject` answers 401 ambiguous_credentials; `first`
   * uses the first in `credentials` order. The mTLS peer identity is a property of the
   * connection, not of the request, and never makes a request ambiguous.
   */
  readonly onMultiple: 'reject' | 'first';
}

/** The default when a policy says nothing: bearer JWTs from any configured issuer. */
export const DEFAULT_AUTHENTICATION: AuthenticationConfig = Object.freeze({
  credentials: Object.freeze([{ kind: 'jwt', header: 'authorization', issuers: undefined, types: undefined } as const]),
  onMultiple: 'reject',
} as const);

/** A credential found in the request, not yet verified. */
export interface PresentedCredential {
  readonly kind: CredentialKind;
  /**
   * Where it travels (`header:authorization`, `cookie:kc_session`, `query:api_key`, `peer`).
   * Two methods that find a credential in the same place found one credential, not two.
   */
  readonly carrier: string;
  /**
   * `fallback`: the place holds something, but not in this method's shape (an opaque token where
   * a JWT was expected). Another method that recognizes it takes precedence; if none does, this
   * one verifies it and reports precisely why it is not acceptable.
   */
  readonly claim: 'certain' | 'fallback';
  /** Verifies the credential: an identity, or a DenyError with a catalogued reason. */
  verify(): Promise<AuthenticatedIdentity>;
}

export interface CredentialProvider<K extends CredentialKind = CredentialKind> {
  readonly kind: K;
  /** The credential of this kind in the request, if any. No I/O; throws DenyError when malformed. */
  find(request: CredentialRequest, spec: CredentialSpecOf<K>): PresentedCredential | undefined;
}

/** A provider for each credential kind keycard is configured for. */
export type CredentialProviders = { readonly [K in CredentialKind]?: CredentialProvider<K> };
