// Bearer JWTs: find the token, verify it once (cached), return an Identity or throw a DenyError.
// A token is checked only against the issuer its `iss` names, and only with that issuer's keys,
// audiences and algorithms.
import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import type { IssuerSettings } from '../config/settings.js';
import { DenyError } from '../errors.js';
import type { CredentialProvider, CredentialRequest, CredentialSpecOf, PresentedCredential } from './credentials/types.js';
import { duplicateMemberInJws } from './duplicate-members.js';
import { ANONYMOUS, type AuthenticatedIdentity, type Identity } from './identity.js';
import { denyReasonForJwtError } from './jwt-errors.js';
import type { KeySet } from './key-set.js';
import { checkSubject } from './subject.js';
import { TokenCache, type VerifiedToken } from './token-cache.js';


/** header.payload.signature, each unpadded base64url (an empty signature, alg none, is left to jose to refuse by name). */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
export interface Issuer {
  readonly settings: IssuerSettings;
  readonly keys: KeySet;
}

export interface AuthenticatorOptions {
  readonly clockSkewMs: number;
  readonly maxTokenBytes: number;
  /** Longest token lifetime accepted (`jwt.maxTokenLifetime`); DEFAULT_MAX_TOKEN_LIFETIME_MS when left out. */
  readonly maxTokenLifetimeMs?: number;
  readonly onCacheLookup?: (hit: boolean) => void;
}

export type HeaderLookup = (name: string) => string | undefined;

export class Authenticator implements CredentialProvider<'jwt'> {
  readonly kind = 'jwt';

  private readonly byIssuerUrl = new Map<string, Issuer>();
  /** Verifications in progress, so a burst of requests with one new token verifies it once. */
  private readonly pending = new Map<string, Promise<VerifiedToken>>();

  constructor(
    issuers: readonly Issuer[],
    private readonly cache: TokenCache,
    private readonly options: AuthenticatorOptions,
  ) {
    for (const issuer of issuers) this.byIssuerUrl.set(issuer.settings.issuer, issuer);
  }

  find(request: CredentialRequest, spec: CredentialSpecOf<'jwt'>): PresentedCredential | undefined {
    const token = bearerToken(request.header(spec.header));
    if (token === undefined) return undefined;
    return {
      kind: 'jwt',
      carrier: `header:${spec.header}`,
      // A token of another shape (opaque, or a JWE) may be for another method on this header.
      claim: isJwsCompact(token) ? 'certain' : 'fallback',
      verify: () => this.verifyToken(token, spec.issuers, spec.types),
    };
  }

  /**
   * The caller of an Authorization header (anonymous without a Bearer token).
   * @param allowedIssuers issuer names accepted by the service's policy; undefined accepts all.
   */
  async authenticate(header: HeaderLookup, allowedIssuers: readonly string[] | undefined): Promise<Identity> {
    const token = bearerToken(header('authorization'));
    if (token === undefined) return ANONYMOUS;
    return this.verifyToken(token, allowedIssuers, undefined);
  }

  private async verifyToken(token: string, allowedIssuers: readonly string[] | undefined, types: readonly string[] | undefined): Promise<AuthenticatedIdentity> {
    if (Buffer.byteLength(token) > this.options.maxTokenBytes) {
      throw new DenyError('token_too_large', `token of ${Buffer.byteLength(token)} bytes exceeds ${this.options.maxTokenBytes}`);
    }
    const key = TokenCache.key(token);
    const cached = this.cache.get(key);
    this.options.onCacheLookup?.(cached !== undefined);
    const identity = cached ?? (await this.verifyOnce(key, token));
    if (allowedIssuers && !allowedIssuers.includes(identity.identity.issuer)) {
      throw new DenyError('untrusted_issuer', `issuer ${identity.identity.issuer} is not accepted by this service`);
    }
    if (types && !types.includes(mediaType(identity.type))) {
      throw new DenyError('invalid_token_type', `typ ${JSON.stringify(identity.type ?? null)} is not one of ${types.join(', ')}`);
    }
    return identity.identity;
  }

  private verifyOnce(key: string, token: string): Promise<VerifiedToken> {
    let verification = this.pending.get(key);
    if (!verification) {
      verification = this.verify(token).finally(() => this.pending.delete(key));
      this.pending.set(key, verification);
    }
    return verification.then((identity) => {
      this.cache.set(key, identity);
      return identity;
    });
  }

  private async verify(token: string): Promise<VerifiedToken> {
    // jose decodes the parts leniently ("=" padding, "+" and "/"); the signature is checked over
    // the header and payload as spelled, so a signature re-spelled that way would still verify:
    // one token, many accepted spellings. Only the JWS compact form (RFC 7515) is a token.
    if (!JWS_COMPACT.test(token)) throw new DenyError('malformed_token', 'not three base64url parts (no padding, no "+" or "/")');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch (error) {
      throw new DenyError('malformed_token', (error as Error).message);
    }
    const issuer = typeof iss === 'string' ? this.byIssuerUrl.get(iss) : undefined;
    if (!issuer) throw new DenyError('untrusted_issuer', `no configured issuer is ${JSON.stringify(iss)}`);
    const { settings } = issuer;
    try {
      const { payload, protectedHeader } = await verifyWithKeys(token, issuer.keys, {
        issuer: settings.issuer,
        audience: settings.audiences,
        algorithms: settings.algorithms,
        clockTolerance: Math.round(this.options.clockSkewMs / 1000),
        requiredClaims: ['sub', 'exp'],
      });
      const duplicate = duplicateMemberInJws(token);
      if (duplicate !== undefined) throw new DenyError('malformed_token', `${settings.name}: ${duplicate}`);
      const subject = checkSubject(payload.sub);
      if (!subject.ok) throw new DenyError('invalid_claims', `${settings.name}: ${subject.problem}`);
      const lifetime = lifetimeProblem(payload, this.options.maxTokenLifetimeMs ?? DEFAULT_MAX_TOKEN_LIFETIME_MS, this.options.clockSkewMs, Date.now());
      if (lifetime !== undefined) throw new DenyError('invalid_claims', `${settings.name}: ${lifetime}`);
      // jose checks a future iat only with maxTokenAge. A token "issued" later than now would also
      // outlive a revocation of the subject's tokens issued before now.
      const issuedAhead = (payload.iat ?? 0) - Date.now() / 1000;
      if (issuedAhead > this.options.clockSkewMs / 1000) {
        throw new DenyError('token_not_yet_valid', `${settings.name}: "iat" is ${Math.round(issuedAhead)}s in the future`);
      }
      const identity: AuthenticatedIdentity = Object.freeze({
        authenticated: true,
        subject: subject.subject,
        issuer: settings.name,
        credential: 'jwt',
        claims: Object.freeze(payload),
        expiresAt: payload.exp!,
      });
      // A typ that is not a string (RFC 7515 §4.1.9) matches no configured type.
      return { identity, type: typeof protectedHeader.typ === 'string' ? protectedHeader.typ : undefined, expiresAt: payload.exp! };
    } catch (error) {
      if (error instanceof DenyError) throw error;
      throw new DenyError(denyReasonForJwtError(error), `${settings.name}: ${(error as Error).message}`);
    }
  }
}

/** `jwt.maxTokenLifetime` by default: 24 hours. */
export const DEFAULT_MAX_TOKEN_LIFETIME_MS = 86_400_000;

/**
 * Why a verified token lives longer than keycard accepts, or undefined. A bounded lifetime is
 * what lets a revocation entry expire (see revocationExpiry in cli/state/revocations.ts). Two
 * checks: `exp` may lie at most maxTokenLifetime + clock skew ahead of now, and, when the token
 * has `iat`, `exp − iat` may be at most maxTokenLifetime (otherwise a long-lived token rejected
 * today would be accepted later, after the revocation entry that named it was dropped).
 */
export function lifetimeProblem(payload: Pick<JWTPayload, 'exp' | 'iat'>, maxLifetimeMs: number, clockSkewMs: number, nowMs: number): string | undefined {
  if (payload.exp === undefined) return undefined;
  const maxSeconds = Math.floor(maxLifetimeMs / 1000);
  const skewSeconds = Math.round(clockSkewMs / 1000);
  const ahead = payload.exp - Math.floor(nowMs / 1000);
  if (ahead > maxSeconds + skewSeconds) {
    return `"exp" is ${ahead}s in the future, beyond jwt.maxTokenLifetime (${maxSeconds}s) plus the clock skew (${skewSeconds}s)`;
  }
  if (payload.iat !== undefined && payload.exp - payload.iat > maxSeconds) {
    return `the token's lifetime ("exp" - "iat") of ${payload.exp - payload.iat}s exceeds jwt.maxTokenLifetime (${maxSeconds}s)`;
  }
  return undefined;
}

/** Most keys tried for a token without `kid` that several keys of the issuer could have signed. */
const MAX_CANDIDATE_KEYS = 4;

async function verifyWithKeys(token: string, keys: KeySet, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
  try {
    return await jwtVerify(token, keys.getKey, options);
  } catch (error) {
    // jose leaves "no kid, several keys fit the alg" to the caller: try them, a bounded few.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let tried = 0;
    for await (const key of error) {
      if (++tried > MAX_CANDIDATE_KEYS) break;
      try {
        return await jwtVerify(token, key, options);
      } catch (attempt) {
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

const WHITESPACE = /\s/;


/**
 * Whether the token has the shape of a JWS compact serialization: three parts (a JWE has five).
 * Counting dots is enough to tell a JWT from an opaque token; verification checks the rest.
 */
function isJwsCompact(token: string): boolean {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  return first > 0 && second > first + 1 && second < token.length - 1 && token.indexOf('.', second + 1) < 0;
}

/** A `typ` value compared as RFC 7515 §4.1.9 says: case-insensitive, `application/` implied. */
export function mediaType(typ: string | undefined): string {
  const lower = (typ ?? '').toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * The token of an `Authorization: Bearer` header. No header, or another scheme, is no credential
 * (the caller is anonymous); a Bearer header without exactly one token is malformed.
 */
export function bearerToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // The usual form, `Bearer <token>` without any other whitespace, in one scan of the token.
  if (value.startsWith('Bearer ') && value.length > 7 && !WHITESPACE.test(value.slice(7))) return value.slice(7);
  // [\s\S], not ".": a token followed by a line break and more is malformed, not "no credential".
  const match = /^\s*bearer(?:\s+([\s\S]*))?$/i.exec(value);
  if (!match) return undefined;
  const token = (match[1] ?? '').trim();
  if (token === '' || WHITESPACE.test(token)) throw new DenyError('malformed_credential', 'Bearer needs exactly one token');
  return token;
}
