// The identity phase end to end: real KeySets over a JWKS file (or a real HTTP JWKS endpoint),
// real tokens signed by per-run keys, and the deny reasons the catalogue promises.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, decodeJwt, exportJWK, exportSPKI, generateSecret, importJWK, SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Authenticator, bearerToken, type HeaderLookup } from '../../src/authn/authenticator.js';
import type { AuthenticatedIdentity, Identity } from '../../src/authn/identity.js';
import { fileLoader, KeySet, uriLoader, type JwksLoader } from '../../src/authn/key-set.js';
import { TokenCache } from '../../src/authn/token-cache.js';
import type { IssuerSettings } from '../../src/config/settings.js';
import { DenyError, denySpec, type DenyReason } from '../../src/errors.js';
import { jwks, makeKey, signToken, TEST_AUDIENCE, TEST_ISSUER, type TestKey } from '../helpers/keys.js';
import { Workspace } from '../helpers/workspace.js';

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

let es: TestKey; // ES256, in the issuer's JWKS
let rs: TestKey; // RS256, in the issuer's JWKS
let stranger: TestKey; // ES256, never published

beforeAll(async () => {
  [es, rs, stranger] = await Promise.all([makeKey('ES256', 'es-1'), makeKey('RS256', 'rs-1'), makeKey('ES256', 'es-stranger')]);
});

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

function issuerSettings(overrides: Partial<IssuerSettings> = {}): IssuerSettings {
  return {
    name: 'test-idp',
    issuer: TEST_ISSUER,
    audiences: [TEST_AUDIENCE],
    algorithms: ['RS256', 'ES256'],
    jwksFile: 'jwks.json',
    jwksRefreshInterval: 300_000,
    jwksMinRefreshInterval: 0,
    jwksTimeout: 5_000,
    ...overrides,
  };
}

/** A loader that counts its calls. */
function counted(inner: JwksLoader): JwksLoader & { calls: number } {
  const loader = {
    description: inner.description,
    calls: 0,
    load(): Promise<unknown> {
      loader.calls += 1;
      return inner.load();
    },
  };
  return loader;
}

interface SetupOptions {
  /** Keys published in the JWKS file at start. */
  readonly published?: readonly TestKey[];
  /** Raw JWKS file content instead of `published`. */
  readonly jwksContent?: unknown;
  readonly issuer?: Partial<IssuerSettings>;
  readonly minRefreshIntervalMs?: number;
  /** The KeySet's clock. */
  readonly keySetNow?: () => number;
  readonly cache?: TokenCache;
  readonly clockSkewMs?: number;
  readonly maxTokenBytes?: number;
  /** jwt.maxTokenLifetime; the authenticator's default (24h) when left out. */
  readonly maxTokenLifetimeMs?: number;
  /** Load the keys before the first request (default true), as keycard does at start. */
  readonly preload?: boolean;
}

interface Harness {
  readonly authenticator: Authenticator;
  readonly keySet: KeySet;
  readonly loader: JwksLoader & { calls: number };
  /** Every onCacheLookup report, in order. */
  readonly lookups: boolean[];
  writeJwks(...keys: TestKey[]): void;
  authenticate(token: string, allowedIssuers?: readonly string[]): Promise<Identity>;
}

async function setup(options: SetupOptions = {}): Promise<Harness> {
  const workspace = new Workspace();
  cleanups.push(() => workspace.remove());
  const writeJwks = (...keys: TestKey[]) => void workspace.write('jwks.json', jwks(...keys));
  if (options.jwksContent !== undefined) workspace.write('jwks.json', options.jwksContent as object);
  else writeJwks(...(options.published ?? [es, rs]));
  const loader = counted(fileLoader(workspace.path('jwks.json')));
  const keySet = new KeySet(loader, {
    refreshIntervalMs: 300_000,
    minRefreshIntervalMs: options.minRefreshIntervalMs ?? 0,
    ...(options.keySetNow ? { now: options.keySetNow } : {}),
  });
  if (options.preload ?? true) await keySet.refresh().catch(() => undefined);
  const lookups: boolean[] = [];
  const authenticator = new Authenticator(
    [{ settings: issuerSettings(options.issuer), keys: keySet }],
    options.cache ?? new TokenCache(100, 300_000),
    {
      clockSkewMs: options.clockSkewMs ?? 30_000,
      maxTokenBytes: options.maxTokenBytes ?? 8192,
      ...(options.maxTokenLifetimeMs !== undefined && { maxTokenLifetimeMs: options.maxTokenLifetimeMs }),
      onCacheLookup: (hit) => lookups.push(hit),
    },
  );
  return {
    authenticator,
    keySet,
    loader,
    lookups,
    writeJwks,
    authenticate: (token, allowedIssuers) => authenticator.authenticate(bearer(token), allowedIssuers),
  };
}

function headers(values: Record<string, string>): HeaderLookup {
  return (name) => values[name];
}

function bearer(token: string): HeaderLookup {
  return headers({ authorization: `Bearer ${token}` });
}

/** The DenyError a promise rejects with; fails the test if it resolves or rejects with anything else. */
async function denial(promise: Promise<unknown>): Promise<DenyError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DenyError);
    return error as DenyError;
  }
  return expect.fail(`expected a DenyError, got ${JSON.stringify(result)}`);
}

async function reasonOf(promise: Promise<unknown>): Promise<DenyReason> {
  return (await denial(promise)).reason;
}

function authenticated(identity: Identity): AuthenticatedIdentity {
  if (!identity.authenticated) return expect.fail('expected an authenticated identity');
  return identity;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function validClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'alice', iat: now, exp: now + 600, ...extra };
}

/** Signs an arbitrary JSON payload, for claims SignJWT would not produce. */
function signRaw(key: TestKey, payload: Record<string, unknown>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWKS endpoint on 127.0.0.1 whose answer the test controls. */
class JwksServer {
  status = 200;
  body: unknown = { keys: [] };
  requests = 0;
  private readonly server: Server = createServer((_request, response) => {
    this.requests += 1;
    response.writeHead(this.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(this.body));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => this.close());
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function uriAuthenticator(url: string, options: { minRefreshIntervalMs?: number } = {}) {
  const loader = counted(uriLoader(url, 2_000));
  const keySet = new KeySet(loader, { refreshIntervalMs: 300_000, minRefreshIntervalMs: options.minRefreshIntervalMs ?? 0 });
  const authenticator = new Authenticator([{ settings: issuerSettings({ jwksFile: undefined, jwksUri: url }), keys: keySet }], new TokenCache(100, 300_000), {
    clockSkewMs: 30_000,
    maxTokenBytes: 8192,
  });
  return { authenticator, keySet, loader };
}

// ---------------------------------------------------------------------------------------------
// Credential extraction
// ---------------------------------------------------------------------------------------------

describe('credential extraction', () => {
  it('treats a request without an Authorization header as anonymous, without touching the cache', async () => {
    const h = await setup();
    const identity = await h.authenticator.authenticate(headers({ 'x-other': 'Bearer nope' }), undefined);
    expect(identity).toEqual({ authenticated: false });
    expect(h.lookups).toEqual([]);
  });

  it('treats another scheme (Basic) as anonymous', async () => {
    const h = await setup();
    const identity = await h.authenticator.authenticate(headers({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), ['test-idp']);
    expect(identity.authenticated).toBe(false);
    expect(h.lookups).toEqual([]);
  });

  it.each([
    ['Bearer', 'no token'],
    ['Bearer ', 'an empty token'],
    ['Bearer    ', 'only whitespace'],
    ['Bearer one two', 'two tokens'],
    ['Bearer a.b.c\td.e.f', 'two tokens separated by a tab'],
  ])('denies %j (%s) as malformed_credential', async (value) => {
    const h = await setup();
    expect(await reasonOf(h.authenticator.authenticate(headers({ authorization: value }), undefined))).toBe('malformed_credential');
    expect(h.lookups).toEqual([]);
  });

  it('accepts the scheme name case-insensitively and tolerates surrounding whitespace', async () => {
    const h = await setup();
    const token = await signToken(es);
    for (const value of [`bearer ${token}`, `BEARER ${token}`, `  Bearer   ${token}  `]) {
      const identity = authenticated(await h.authenticator.authenticate(headers({ authorization: value }), undefined));
      expect(identity.subject).toBe('alice');
    }
  });

  it('bearerToken extracts exactly the token', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearertoken')).toBeUndefined();
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(() => bearerToken('Bearer a b')).toThrow(DenyError);
  });
});

// ---------------------------------------------------------------------------------------------
// Valid tokens
// ---------------------------------------------------------------------------------------------

describe('valid tokens', () => {
  it.each(['ES256', 'RS256'] as const)('accepts a valid %s token and returns the configured issuer name', async (alg) => {
    const h = await setup();
    const key = alg === 'ES256' ? es : rs;
    const token = await signToken(key, { sub: 'bob', claims: { email: 'bob@example.test' } });
    const identity = authenticated(await h.authenticate(token));
    expect(identity).toMatchObject({ authenticated: true, subject: 'bob', issuer: 'test-idp', credential: 'jwt' });
    expect(identity.issuer).not.toBe(TEST_ISSUER);
    expect(identity.expiresAt).toBe(decodeJwt(token).exp);
    expect(identity.claims).toMatchObject({ sub: 'bob', email: 'bob@example.test', iss: TEST_ISSUER });
    expect(Object.isFrozen(identity)).toBe(true);
    expect(Object.isFrozen(identity.claims)).toBe(true);
  });

  it('accepts any of the configured audiences, also inside an audience array', async () => {
    const h = await setup({ issuer: { audiences: ['shop', 'billing'] } });
    expect(authenticated(await h.authenticate(await signToken(es, { aud: 'billing' }))).subject).toBe('alice');
    expect(authenticated(await h.authenticate(await signToken(es, { aud: ['other', 'shop'] }))).subject).toBe('alice');
  });

  it('accepts a service whose allowedIssuers name the issuer', async () => {
    const h = await setup();
    const identity = await h.authenticate(await signToken(es), ['other-idp', 'test-idp']);
    expect(authenticated(identity).issuer).toBe('test-idp');
  });

  it('accepts a sub of exactly 256 characters', async () => {
    const h = await setup();
    const sub = 's'.repeat(256);
    expect(authenticated(await h.authenticate(await signToken(es, { sub }))).subject).toBe(sub);
  });
});

// ---------------------------------------------------------------------------------------------
// Time claims
// ---------------------------------------------------------------------------------------------

describe('time claims', () => {
  it('denies an expired token as token_expired', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    expect(await reasonOf(h.authenticate(await signToken(es, { expiresIn: -120 })))).toBe('token_expired');
  });

  it('accepts a token that expired within the clock skew', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    expect(authenticated(await h.authenticate(await signToken(es, { expiresIn: -5 }))).subject).toBe('alice');
  });

  it('denies a token expired by more than a smaller clock skew', async () => {
    const h = await setup({ clockSkewMs: 0 });
    expect(await reasonOf(h.authenticate(await signToken(es, { expiresIn: -5 })))).toBe('token_expired');
  });

  it('denies a token whose nbf is beyond the clock skew as token_not_yet_valid', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    expect(await reasonOf(h.authenticate(await signToken(es, { notBefore: 300 })))).toBe('token_not_yet_valid');
  });

  it('accepts a token whose nbf is in the future but within the clock skew', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    expect(authenticated(await h.authenticate(await signToken(es, { notBefore: 10 }))).subject).toBe('alice');
  });

  it('denies a token without exp', async () => {
    const h = await setup();
    const { exp: _exp, ...claims } = validClaims();
    expect(await reasonOf(h.authenticate(await signRaw(es, claims)))).toBe('invalid_claims');
  });

  it('denies a token whose exp is not a number as invalid_claims', async () => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signRaw(es, validClaims({ exp: 'tomorrow' }))))).toBe('invalid_claims');
  });

  // A malformed time claim is not a token that is "not yet valid"; jose reports it with
  // reason 'invalid' (rather than 'check_failed') and the claim name.
  it.each([
    ['nbf', 'soon'],
    ['iat', 'yesterday'],
  ])('denies a non-numeric %s claim as invalid_claims, not token_not_yet_valid', async (claim, value) => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signRaw(es, validClaims({ [claim]: value }))))).toBe('invalid_claims');
  });
});

// ---------------------------------------------------------------------------------------------
// Token lifetime (jwt.maxTokenLifetime): what lets a revocation entry expire safely
// ---------------------------------------------------------------------------------------------

describe('token lifetime', () => {
  const HOUR = 3600;
  const DAY = 24 * HOUR;

  it('accepts a token that lives exactly the default maximum of 24 hours', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    const now = nowSeconds();
    expect(authenticated(await h.authenticate(await signRaw(es, validClaims({ iat: now, exp: now + DAY })))).subject).toBe('alice');
  });

  it('denies a token whose exp lies beyond maxTokenLifetime plus the clock skew as invalid_claims, with a clear detail', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    const { iat: _iat, ...claims } = validClaims({ exp: nowSeconds() + DAY + 90 });
    const error = await denial(h.authenticate(await signRaw(es, claims)));
    expect(error.reason).toBe('invalid_claims');
    expect(denySpec(error.reason).status).toBe(401);
    expect(error.detail).toMatch(/^test-idp: "exp" is 864\d\ds in the future, beyond jwt\.maxTokenLifetime \(86400s\) plus the clock skew \(30s\)$/);
  });

  it('gives a token without iat the clock skew on top of maxTokenLifetime', async () => {
    const h = await setup({ clockSkewMs: 30_000 });
    const { iat: _iat, ...claims } = validClaims({ exp: nowSeconds() + DAY + 20 });
    expect(authenticated(await h.authenticate(await signRaw(es, claims))).subject).toBe('alice');
  });

  it('denies a token issued with a longer lifetime (exp - iat) even once its exp is near', async () => {
    // Issued two days ago for three days: exp is only a day ahead, but accepting it now would
    // let a token older than any revocation entry is kept back in.
    const h = await setup({ clockSkewMs: 30_000 });
    const now = nowSeconds();
    const error = await denial(h.authenticate(await signRaw(es, validClaims({ iat: now - 2 * DAY, exp: now + DAY - 60 }))));
    expect(error.reason).toBe('invalid_claims');
    expect(error.detail).toBe(`test-idp: the token's lifetime ("exp" - "iat") of ${3 * DAY - 60}s exceeds jwt.maxTokenLifetime (86400s)`);
  });

  it('applies a configured maxTokenLifetime', async () => {
    const h = await setup({ clockSkewMs: 0, maxTokenLifetimeMs: HOUR * 1000 });
    expect(authenticated(await h.authenticate(await signToken(es, { expiresIn: HOUR }))).subject).toBe('alice');
    expect(await reasonOf(h.authenticate(await signToken(es, { expiresIn: HOUR + 1 })))).toBe('invalid_claims');
  });

  it('does not cache a token denied for its lifetime', async () => {
    const h = await setup({ maxTokenLifetimeMs: HOUR * 1000 });
    const token = await signToken(es, { expiresIn: 2 * HOUR });
    expect(await reasonOf(h.authenticate(token))).toBe('invalid_claims');
    expect(await reasonOf(h.authenticate(token))).toBe('invalid_claims');
    expect(h.lookups).toEqual([false, false]);
  });
});

// ---------------------------------------------------------------------------------------------
// Issuer and audience
// ---------------------------------------------------------------------------------------------

describe('issuer and audience', () => {
  it('denies a token from an issuer that is not configured, without resolving a key', async () => {
    const h = await setup();
    const getKey = vi.spyOn(h.keySet, 'getKey');
    expect(await reasonOf(h.authenticate(await signToken(es, { iss: 'https://evil.example/' })))).toBe('untrusted_issuer');
    expect(getKey).not.toHaveBeenCalled();
  });

  it('denies a token without iss as untrusted_issuer', async () => {
    const h = await setup();
    const { iss: _iss, ...claims } = validClaims();
    expect(await reasonOf(h.authenticate(await signRaw(es, claims)))).toBe('untrusted_issuer');
  });

  it('denies a token of a configured issuer the service does not accept', async () => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signToken(es), ['other-idp']))).toBe('untrusted_issuer');
  });

  it('denies an issuer the service does not accept even when the token is served from the cache', async () => {
    const h = await setup();
    const token = await signToken(es);
    authenticated(await h.authenticate(token, undefined));
    expect(await reasonOf(h.authenticate(token, ['other-idp']))).toBe('untrusted_issuer');
    expect(h.lookups).toEqual([false, true]);
    // ...and the cached entry still serves a service that does accept the issuer.
    expect(authenticated(await h.authenticate(token, ['test-idp'])).subject).toBe('alice');
  });

  it('checks a token only with the keys of the issuer its iss names', async () => {
    const workspace = new Workspace();
    cleanups.push(() => workspace.remove());
    workspace.write('first.json', jwks(es));
    workspace.write('second.json', jwks(rs));
    const keySet = (file: string) => new KeySet(fileLoader(workspace.path(file)), { refreshIntervalMs: 300_000, minRefreshIntervalMs: 0 });
    const secondIssuer = 'https://second.test.example/';
    const authenticator = new Authenticator(
      [
        { settings: issuerSettings(), keys: keySet('first.json') },
        { settings: issuerSettings({ name: 'second-idp', issuer: secondIssuer }), keys: keySet('second.json') },
      ],
      new TokenCache(100, 300_000),
      { clockSkewMs: 0, maxTokenBytes: 8192 },
    );
    const second = authenticated(await authenticator.authenticate(bearer(await signToken(rs, { iss: secondIssuer })), undefined));
    expect(second.issuer).toBe('second-idp');
    // Signed by the first issuer's key but claiming to be the second issuer.
    expect(await reasonOf(authenticator.authenticate(bearer(await signToken(es, { iss: secondIssuer })), undefined))).toBe('unknown_key');
  });

  it('denies a token for another audience as invalid_audience', async () => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signToken(es, { aud: 'billing' })))).toBe('invalid_audience');
  });

  it('denies a token without aud as invalid_audience', async () => {
    const h = await setup();
    const { aud: _aud, ...claims } = validClaims();
    expect(await reasonOf(h.authenticate(await signRaw(es, claims)))).toBe('invalid_audience');
  });
});

// ---------------------------------------------------------------------------------------------
// Algorithms and signatures
// ---------------------------------------------------------------------------------------------

describe('algorithms and signatures', () => {
  it('denies an algorithm the issuer does not allow, even with a published key', async () => {
    const h = await setup({ issuer: { algorithms: ['ES256'] } });
    expect(await reasonOf(h.authenticate(await signToken(rs)))).toBe('disallowed_algorithm');
    expect(authenticated(await h.authenticate(await signToken(es))).subject).toBe('alice');
  });

  it('never accepts an unsigned alg=none token', async () => {
    const h = await setup();
    for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT' }, { alg: 'none', kid: es.kid }]) {
      const token = `${b64url(header)}.${b64url(validClaims())}.`;
      const denied = await denial(h.authenticate(token));
      expect(['malformed_token', 'disallowed_algorithm']).toContain(denied.reason);
      expect(denySpec(denied.reason).status).toBe(401);
    }
  });

  it('denies an HS256 token that uses the issuer RSA public key as the HMAC secret', async () => {
    const h = await setup();
    const publicKey = await importJWK(rs.publicJwk, 'RS256', { extractable: true });
    if (publicKey instanceof Uint8Array) return expect.fail('expected a key, not bytes');
    const secrets = [new TextEncoder().encode(await exportSPKI(publicKey)), new TextEncoder().encode(JSON.stringify(rs.publicJwk))];
    for (const secret of secrets) {
      const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'HS256', kid: rs.kid, typ: 'JWT' }).sign(secret);
      expect(await reasonOf(h.authenticate(token))).toBe('disallowed_algorithm');
    }
  });

  it('denies a token signed by a key that is not published as unknown_key', async () => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signToken(stranger)))).toBe('unknown_key');
  });

  it('denies a token with a published kid but another key signature as invalid_signature', async () => {
    const h = await setup();
    const forged = await signToken(stranger, { header: { kid: es.kid } });
    expect(await reasonOf(h.authenticate(forged))).toBe('invalid_signature');
  });

  it('accepts a token without kid when one of several keys for its alg signed it', async () => {
    const es2 = await makeKey('ES256', 'es-2');
    const h = await setup({ published: [es, es2] });
    const withoutKid = (key: TestKey) =>
      new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(key.privateKey);
    expect(authenticated(await h.authenticate(await withoutKid(es2))).subject).toBe('alice');
    expect(authenticated(await h.authenticate(await withoutKid(es))).subject).toBe('alice');
    expect(await reasonOf(h.authenticate(await withoutKid(stranger)))).toBe('invalid_signature');
  });

  it('denies a token whose payload was altered after signing as invalid_signature', async () => {
    const h = await setup();
    const [header, , signature] = (await signToken(es, { sub: 'alice' })).split('.');
    const altered = `${header}.${b64url(validClaims({ sub: 'admin' }))}.${signature}`;
    expect(await reasonOf(h.authenticate(altered))).toBe('invalid_signature');
  });
});

// ---------------------------------------------------------------------------------------------
// Token shape
// ---------------------------------------------------------------------------------------------

describe('token shape', () => {
  it('denies a token larger than maxTokenBytes as token_too_large without verifying it', async () => {
    const token = await signToken(es, { claims: { padding: 'x'.repeat(500) } });
    const h = await setup({ maxTokenBytes: 200, preload: false });
    const getKey = vi.spyOn(h.keySet, 'getKey');
    expect(await reasonOf(h.authenticate(token))).toBe('token_too_large');
    expect(getKey).not.toHaveBeenCalled();
    expect(h.loader.calls).toBe(0);
    expect(h.lookups).toEqual([]);
  });

  it('measures maxTokenBytes inclusively', async () => {
    const token = await signToken(es);
    const exact = await setup({ maxTokenBytes: Buffer.byteLength(token) });
    expect(authenticated(await exact.authenticate(token)).subject).toBe('alice');
    const smaller = await setup({ maxTokenBytes: Buffer.byteLength(token) - 1 });
    expect(await reasonOf(smaller.authenticate(token))).toBe('token_too_large');
  });

  it.each([
    ['abc.def', 'two segments'],
    ['abc', 'one segment'],
    ['a.b.c', 'undecodable segments'],
    [`${b64url({ alg: 'ES256' })}.bm90IGpzb24.sig`, 'a payload that is not JSON'],
    [`${b64url({ alg: 'ES256' })}.${b64url([1, 2])}.sig`, 'a payload that is not an object'],
  ])('denies %j (%s) as malformed_token', async (token) => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(token))).toBe('malformed_token');
  });

  it('denies a token without sub as invalid_claims', async () => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signToken(es, { sub: '' })))).toBe('invalid_claims');
  });

  it.each([
    ['an empty string', ''],
    ['a number', 42],
    ['longer than 256 characters', 's'.repeat(257)],
  ])('denies a sub that is %s as invalid_claims', async (_label, sub) => {
    const h = await setup();
    expect(await reasonOf(h.authenticate(await signRaw(es, validClaims({ sub }))))).toBe('invalid_claims');
  });
});

// ---------------------------------------------------------------------------------------------
// Key rotation
// ---------------------------------------------------------------------------------------------

describe('key rotation', () => {
  it('picks up a newly published key on an unknown kid, without a restart', async () => {
    const a = es;
    const b = await makeKey('ES256', 'es-rotated');
    const h = await setup({ published: [a], minRefreshIntervalMs: 0 });
    expect(h.loader.calls).toBe(1);

    expect(await reasonOf(h.authenticate(await signToken(b)))).toBe('unknown_key');
    expect(h.loader.calls).toBe(2); // the unknown kid triggered a refresh, which did not find it

    h.writeJwks(a, b);
    expect(authenticated(await h.authenticate(await signToken(b, { sub: 'rotated' }))).subject).toBe('rotated');
    expect(h.loader.calls).toBe(3);
    expect(authenticated(await h.authenticate(await signToken(a, { sub: 'old' }))).subject).toBe('old');
    expect(h.loader.calls).toBe(3); // a known kid needs no refresh
  });

  it('rate-limits refreshes on unknown kids to one per minRefreshInterval', async () => {
    let now = 1_000_000;
    const b = await makeKey('ES256', 'es-late');
    const h = await setup({ published: [es], minRefreshIntervalMs: 60_000, keySetNow: () => now });
    expect(h.loader.calls).toBe(1);

    h.writeJwks(es, b);
    const sequential = [await signToken(b, { sub: 'one' }), await signToken(stranger, { sub: 'two' })];
    for (const token of sequential) expect(await reasonOf(h.authenticate(token))).toBe('unknown_key');
    const concurrent = await Promise.all([1, 2, 3].map((n) => signToken(b, { sub: `c${n}` })));
    const reasons = await Promise.all(concurrent.map((token) => reasonOf(h.authenticate(token))));
    expect(reasons).toEqual(['unknown_key', 'unknown_key', 'unknown_key']);
    expect(h.loader.calls).toBe(1);

    now += 60_000;
    expect(authenticated(await h.authenticate(await signToken(b, { sub: 'later' }))).subject).toBe('later');
    expect(h.loader.calls).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// Verify-once cache
// ---------------------------------------------------------------------------------------------

describe('verify-once cache', () => {
  it('verifies a token once and serves repeats from the cache', async () => {
    const h = await setup();
    const getKey = vi.spyOn(h.keySet, 'getKey');
    const token = await signToken(es);
    const first = await h.authenticate(token);
    const second = await h.authenticate(token);
    expect(second).toBe(first);
    expect(getKey).toHaveBeenCalledTimes(1);
    expect(h.lookups).toEqual([false, true]);
  });

  it('shares one verification between concurrent requests with the same new token', async () => {
    const h = await setup();
    const getKey = vi.spyOn(h.keySet, 'getKey');
    const token = await signToken(es);
    const identities = await Promise.all([1, 2, 3, 4, 5].map(() => h.authenticate(token)));
    expect(getKey).toHaveBeenCalledTimes(1);
    for (const identity of identities) expect(identity).toBe(identities[0]);
    expect(h.lookups).toEqual([false, false, false, false, false]);
    await h.authenticate(token);
    expect(h.lookups.at(-1)).toBe(true);
  });

  it('shares a failed verification between concurrent requests and does not cache it', async () => {
    const h = await setup();
    const getKey = vi.spyOn(h.keySet, 'getKey');
    const token = await signToken(es, { expiresIn: -3600 });
    const reasons = await Promise.all([1, 2, 3].map(() => reasonOf(h.authenticate(token))));
    expect(reasons).toEqual(['token_expired', 'token_expired', 'token_expired']);
    expect(getKey).toHaveBeenCalledTimes(1);
    expect(await reasonOf(h.authenticate(token))).toBe('token_expired');
    expect(getKey).toHaveBeenCalledTimes(2);
    expect(h.lookups).toEqual([false, false, false, false]);
  });

  it('does not serve a cached identity past its exp', async () => {
    let now = Date.now();
    const h = await setup({ cache: new TokenCache(100, 24 * 3600_000, () => now) });
    const getKey = vi.spyOn(h.keySet, 'getKey');
    const token = await signToken(es, { expiresIn: 3600 });
    const identity = authenticated(await h.authenticate(token));
    await h.authenticate(token);
    expect(h.lookups).toEqual([false, true]);

    now = identity.expiresAt * 1000; // the cache's clock reaches exp; the token itself is re-verified on real time
    await h.authenticate(token);
    expect(h.lookups).toEqual([false, true, false]);
    expect(getKey).toHaveBeenCalledTimes(2);
  });
});

// ---------------------------------------------------------------------------------------------
// JWKS availability
// ---------------------------------------------------------------------------------------------

describe('JWKS availability', () => {
  it('answers jwks_unavailable (a 503) when the JWKS endpoint refuses connections', async () => {
    const server = new JwksServer();
    const url = await server.start();
    await server.close();
    const { authenticator, keySet } = uriAuthenticator(url);
    const denied = await denial(authenticator.authenticate(bearer(await signToken(es)), undefined));
    expect(denied.reason).toBe('jwks_unavailable');
    expect(denySpec(denied.reason).status).toBe(503);
    expect(keySet.ready).toBe(false);
  });

  it('answers jwks_unavailable when the JWKS endpoint answers 500', async () => {
    const server = new JwksServer();
    server.status = 500;
    const url = await server.start();
    const { authenticator, loader } = uriAuthenticator(url);
    expect(await reasonOf(authenticator.authenticate(bearer(await signToken(es)), undefined))).toBe('jwks_unavailable');
    expect(loader.calls).toBe(1);
    expect(server.requests).toBe(1);
  });

  it('answers jwks_unavailable when the JWKS file is missing', async () => {
    const workspace = new Workspace();
    cleanups.push(() => workspace.remove());
    const keySet = new KeySet(fileLoader(workspace.path('absent.json')), { refreshIntervalMs: 300_000, minRefreshIntervalMs: 0 });
    const authenticator = new Authenticator([{ settings: issuerSettings(), keys: keySet }], new TokenCache(10, 60_000), { clockSkewMs: 0, maxTokenBytes: 8192 });
    expect(await reasonOf(authenticator.authenticate(bearer(await signToken(es)), undefined))).toBe('jwks_unavailable');
  });

  it('loads the keys on first use when they were not loaded at start', async () => {
    const server = new JwksServer();
    server.status = 500;
    const url = await server.start();
    const { authenticator } = uriAuthenticator(url);
    expect(await reasonOf(authenticator.authenticate(bearer(await signToken(es)), undefined))).toBe('jwks_unavailable');
    server.status = 200;
    server.body = jwks(es);
    expect(authenticated(await authenticator.authenticate(bearer(await signToken(es, { sub: 'recovered' })), undefined)).subject).toBe('recovered');
  });

  it('keeps the last good keys when a refresh fails', async () => {
    const server = new JwksServer();
    server.body = jwks(es);
    const url = await server.start();
    const { authenticator, keySet, loader } = uriAuthenticator(url);
    await keySet.refresh();
    expect(authenticated(await authenticator.authenticate(bearer(await signToken(es, { sub: 'before' })), undefined)).subject).toBe('before');

    server.status = 500;
    await expect(keySet.refresh()).rejects.toThrow(/HTTP 500/);
    expect(keySet.ready).toBe(true);
    // A token never seen before (so not from the cache) still verifies against the kept keys,
    // also while an unknown kid makes the KeySet try (and fail) to refresh again.
    expect(await reasonOf(authenticator.authenticate(bearer(await signToken(stranger)), undefined))).toBe('unknown_key');
    expect(loader.calls).toBe(3);
    expect(authenticated(await authenticator.authenticate(bearer(await signToken(es, { sub: 'after' })), undefined)).subject).toBe('after');
  });

  it('refuses a JWKS that contains a private key', async () => {
    const leaky = await makeKey('ES256', 'leaky');
    const privateJwk = { ...(await exportJWK(leaky.privateKey)), kid: leaky.kid, alg: 'ES256' };
    expect(privateJwk.d).toBeDefined();
    const h = await setup({ jwksContent: { keys: [privateJwk] } });
    expect(h.keySet.ready).toBe(false);
    expect(await reasonOf(h.authenticate(await signToken(es)))).toBe('jwks_unavailable');
  });

  it('refuses a JWKS that contains a symmetric (oct) key, also next to good keys', async () => {
    const oct = { ...(await exportJWK(await generateSecret('HS256', { extractable: true }))), kid: 'shared', alg: 'HS256' };
    const h = await setup({ jwksContent: { keys: [es.publicJwk, oct] } });
    expect(h.keySet.ready).toBe(false);
    expect(await reasonOf(h.authenticate(await signToken(es)))).toBe('jwks_unavailable');
  });
});
