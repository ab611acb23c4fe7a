// Verify once: the payload of a JWT that Envoy's jwt_authn filter has already verified, read from
// the CheckRequest's metadata (`payload_in_metadata`) instead of verifying the token again. Only
// services that list `envoyJwt` trust it. The payload is still checked cheaply against the
// configured issuer (defence in depth: a misconfigured jwt_authn provider must not widen trust).
import type { JWTPayload } from 'jose';
import type { IssuerSettings } from '../../config/settings.js';
import { DenyError } from '../../errors.js';
import { checkSubject } from '../subject.js';
import { UnreadableMetadata } from '../../protocol/struct-json.js';
import { bearerToken, DEFAULT_MAX_TOKEN_LIFETIME_MS, lifetimeProblem } from '../authenticator.js';
import type { AuthenticatedIdentity } from '../identity.js';
import type { CredentialProvider, CredentialRequest, CredentialSpecOf, PresentedCredential } from './types.js';
import { timeClaimProblem } from '../time-claims.js';

/** The filter_metadata namespace Envoy's jwt_authn filter writes. */
export const JWT_AUTHN_NAMESPACE = 'envoy.filters.http.jwt_authn';

export interface EnvoyJwtOptions {
  readonly clockSkewMs: number;
  /** `jwt.maxTokenLifetime`; DEFAULT_MAX_TOKEN_LIFETIME_MS when left out. */
  readonly maxTokenLifetimeMs?: number;
  readonly now?: () => number;
}

export class EnvoyJwtProvider implements CredentialProvider<'envoy_jwt'> {
  readonly kind = 'envoy_jwt';
  private readonly byIssuerUrl = new Map<string, IssuerSettings>();
  private readonly now: () => number;

  constructor(
    issuers: readonly IssuerSettings[],
    private readonly options: EnvoyJwtOptions,
  ) {
    for (const issuer of issuers) this.byIssuerUrl.set(issuer.issuer, issuer);
    this.now = options.now ?? Date.now;
  }

  find(request: CredentialRequest, spec: CredentialSpecOf<'envoy_jwt'>): PresentedCredential | undefined {
    const carrier = `header:${spec.header}`;
    const payload = verifiedPayload(request.filterMetadata, spec.metadataKey);
    if (payload !== undefined) {
      // The token was on `spec.header` (jwt_authn may have removed it since): one credential.
      return { kind: 'envoy_jwt', carrier, claim: 'certain', verify: async () => this.check(payload, spec.issuers) };
    }
    if (bearerToken(request.header(spec.header)) === undefined) return undefined;
    // A bearer token Envoy let through without a verified payload (allow_missing_or_failed, or a
    // provider without payload_in_metadata). A `jwt` entry on this header verifies it itself;
    // otherwise it is refused, never treated as anonymous.
    return {
      kind: 'envoy_jwt',
      carrier,
      claim: 'fallback',
      verify: async () => {
        throw new DenyError('token_not_verified_by_proxy', `no ${JWT_AUTHN_NAMESPACE}.${spec.metadataKey} in the check request's metadata`);
      },
    };
  }

  private check(payload: unknown, allowedIssuers: readonly string[] | undefined): AuthenticatedIdentity {
    if (payload instanceof UnreadableMetadata) throw new DenyError('invalid_request', payload.problem);
    if (!isRecord(payload)) throw new DenyError('invalid_claims', 'the jwt_authn payload is not an object');
    const claims = payload as JWTPayload;
    const settings = typeof claims.iss === 'string' ? this.byIssuerUrl.get(claims.iss) : undefined;
    if (!settings) throw new DenyError('untrusted_issuer', `no configured issuer is ${JSON.stringify(claims.iss ?? null)}`);
    if (allowedIssuers && !allowedIssuers.includes(settings.name)) {
      throw new DenyError('untrusted_issuer', `issuer ${settings.name} is not accepted by this service`);
    }
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!audiences.some((audience) => typeof audience === 'string' && settings.audiences.includes(audience))) {
      throw new DenyError('invalid_audience', `${settings.name}: "aud" has none of ${settings.audiences.join(', ')}`);
    }
    const subject = checkSubject(claims.sub);
    if (!subject.ok) throw new DenyError('invalid_claims', `${settings.name}: ${subject.problem}`);
    const nowMs = this.now();
    const time = timeClaimProblem(claims, { nowMs, clockSkewMs: this.options.clockSkewMs, requireExp: true });
    if (time !== undefined) throw new DenyError(time.reason, `${settings.name}: ${time.detail}`);
    const lifetime = lifetimeProblem(claims, this.options.maxTokenLifetimeMs ?? DEFAULT_MAX_TOKEN_LIFETIME_MS, this.options.clockSkewMs, nowMs);
    if (lifetime !== undefined) throw new DenyError('invalid_claims', `${settings.name}: ${lifetime}`);
    return Object.freeze({
      authenticated: true,
      subject: subject.subject,
      issuer: settings.name,
      credential: 'envoy_jwt',
      // Already frozen, without prototypes (protocol/struct-json.ts).
      claims,
      expiresAt: claims.exp!, // present: timeClaimProblem required it
    });
  }
}

/** jwt_authn's payload under `metadataKey`, or undefined when Envoy sent none. */
function verifiedPayload(metadata: Readonly<Record<string, unknown>>, metadataKey: string): unknown {
  const namespace = Object.hasOwn(metadata, JWT_AUTHN_NAMESPACE) ? metadata[JWT_AUTHN_NAMESPACE] : undefined;
  // The whole namespace could not be read: a payload may be in it, so it must not count as none.
  if (namespace instanceof UnreadableMetadata) return namespace;
  if (!isRecord(namespace) || !Object.hasOwn(namespace, metadataKey)) return undefined;
  return namespace[metadataKey];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
