// The internal identity token: a short-lived JWT keycard signs for the service behind it, so the
// service can verify who is calling itself (against the admin port's /.well-known/jwks.json)
// instead of trusting the x-keycard-* headers on the network path. It says who (sub, idp, cred),
// for which service (aud) and with which roles, at the moment of the decision.
//
// Signing costs 50–500 µs, so an issued token is reused for the same caller, service and roles
// until less than half of its lifetime remains; a role change is a new key, hence a new token.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, compactVerify, type CryptoKey, type JSONWebKeySet } from 'jose';
import { LRUCache } from 'lru-cache';
import type { InternalTokenSettings } from '../config/credential-settings.js';
import { ConfigError, DenyError } from '../errors.js';
import type { AuthenticatedIdentity } from './identity.js';
import { readAdditionalPublicKeys, readSigningKeyFile, type SigningKeyFile } from './internal-token-key.js';

/** The `typ` header: tells this token apart from any access token a service also accepts. */
export const INTERNAL_TOKEN_TYPE = 'keycard-id+jwt';

/** The claims of an internal token, besides the registered ones (iss, sub, aud, iat, exp, jti). */
export interface InternalTokenClaims {
  /** The caller's roles for the service, from the live store, sorted. */
  readonly roles: readonly string[];
  /** How the caller authenticated (jwt, api_key, session, …). */
  readonly cred: string;
  /** Who vouched for the subject, by configured name (issuer name, introspection endpoint, …). */
  readonly idp: string;
}

export interface InternalTokenOptions {
  /** Issued tokens kept for reuse (LRU). */
  readonly cacheSize?: number;
  readonly now?: () => number;
}

interface Issued {
  readonly token: Promise<string>;
  /** Epoch milliseconds after which the token is no longer handed out (half its lifetime). */
  readonly reuseUntilMs: number;
  /** The token's exp, epoch seconds. */
  readonly exp: number;
}

const DEFAULT_CACHE_SIZE = 10_000;

export class InternalTokenIssuer {
  /** The request header that carries the token to the service. */
  readonly header: string;
  private signing: { readonly key: SigningKeyFile; readonly privateKey: CryptoKey } | undefined;
  private keySet: JSONWebKeySet | undefined;
  private readonly lifetimeSeconds: number;
  private readonly cache: LRUCache<string, Issued>;
  private readonly now: () => number;

  constructor(
    private readonly settings: InternalTokenSettings,
    options: InternalTokenOptions = {},
  ) {
    this.header = settings.header;
    this.lifetimeSeconds = Math.max(1, Math.floor(settings.lifetime / 1000));
    this.cache = new LRUCache({ max: options.cacheSize ?? DEFAULT_CACHE_SIZE });
    this.now = options.now ?? Date.now;
  }

  /**
   * Reads, checks and imports the signing key (and the additional public keys), and proves the
   * published public key verifies what the private key signs. ConfigError naming the file otherwise.
   */
  async load(): Promise<void> {
    const key = readSigningKeyFile(this.settings.signingKeyFile);
    const additional = this.settings.additionalPublicKeysFile ? readAdditionalPublicKeys(this.settings.additionalPublicKeysFile, key.kid) : [];
    let privateKey: CryptoKey;
    try {
      privateKey = (await importJWK(key.privateJwk, key.alg)) as CryptoKey;
      const probe = await new SignJWT({}).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(privateKey);
      await compactVerify(probe, await importJWK(key.publicJwk, key.alg));
    } catch {
      // jose's messages may describe the key material: not repeated here.
      throw new ConfigError([
        { code: 'invalid_value', file: key.file, key: 'internalToken.signingKeyFile', message: `the internal token signing key (kid "${key.kid}") is not a usable ${key.alg} private key` },
      ]);
    }
    this.signing = { key, privateKey };
    this.keySet = { keys: [key.publicJwk, ...additional] };
    this.cache.clear();
  }

  /** The public JWK set to publish; undefined until load(). */
  get jwks(): JSONWebKeySet | undefined {
    return this.keySet;
  }

  /**
   * A token for `identity` calling `service` with `roles`: a cached one while more than half of
   * its lifetime remains, else a new one. It never outlives the caller's own credential; a
   * credential already past its exp (accepted within the clock skew) gets no token but a
   * token_expired deny, so that the client refreshes it.
   */
  issue(identity: AuthenticatedIdentity, service: string, roles: readonly string[]): Promise<string> {
    const signing = this.signing;
    if (!signing) return Promise.reject(new Error('the internal token signing key is not loaded'));
    const sorted = [...roles].sort();
    const cacheKey = JSON.stringify([identity.subject, identity.issuer, service, sorted, identity.credential]);
    const nowMs = this.now();
    const credentialExp = Math.floor(identity.expiresAt);
    const cached = this.cache.get(cacheKey);
    if (cached && nowMs < cached.reuseUntilMs && cached.exp <= credentialExp) return cached.token;

    const iat = Math.floor(nowMs / 1000);
    const exp = Math.min(iat + this.lifetimeSeconds, credentialExp);
    // `!(a > b)` also catches NaN: fail closed rather than sign a token without a sound exp.
    if (!(exp > iat)) return Promise.reject(new DenyError('token_expired', `the credential expires at ${identity.expiresAt}, before an internal token could be valid`));
    const claims: InternalTokenClaims = { roles: sorted, cred: identity.credential, idp: identity.issuer };
    const token = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: signing.key.alg, kid: signing.key.kid, typ: INTERNAL_TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setSubject(identity.subject)
      .setAudience(service)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signing.privateKey);
    // Concurrent requests of the same caller share one signature; a failed one is not kept.
    const entry: Issued = { token, reuseUntilMs: (iat + (exp - iat) / 2) * 1000, exp };
    this.cache.set(cacheKey, entry);
    token.catch(() => {
      if (this.cache.peek(cacheKey) === entry) this.cache.delete(cacheKey);
    });
    return token;
  }
}
