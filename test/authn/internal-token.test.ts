// The internal identity token: what it carries and how it is signed, when an issued token is
// reused, that it never outlives the caller's credential, and every way a key file is refused.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { AuthenticatedIdentity } from '../../src/authn/identity.js';
import { InternalTokenIssuer } from '../../src/authn/internal-token.js';
import { publicKeySet, readSigningKeyFile } from '../../src/authn/internal-token-key.js';
import type { InternalTokenSettings } from '../../src/config/credential-settings.js';
import { ConfigError, DenyError } from '../../src/errors.js';
import { Workspace } from '../helpers/workspace.js';

type Alg = 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256';

async function privateJwk(alg: Alg = 'ES256', kid = `k-${alg}`): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg };
}

const T0 = 1_700_000_000_000;

function alice(overrides: Partial<AuthenticatedIdentity> = {}): AuthenticatedIdentity {
  return { authenticated: true, subject: 'alice', issuer: 'corp-idp', credential: 'jwt', claims: { sub: 'alice' }, expiresAt: T0 / 1000 + 3600, ...overrides };
}

let workspace: Workspace;
afterEach(() => workspace?.remove());

interface Setup {
  readonly issuer: InternalTokenIssuer;
  readonly clock: { now: number };
  readonly jwk: JWK;
  readonly keyFile: string;
}

async function setup(options: { alg?: Alg; lifetime?: number; cacheSize?: number; settings?: Partial<InternalTokenSettings> } = {}): Promise<Setup> {
  workspace = new Workspace();
  const jwk = await privateJwk(options.alg);
  const keyFile = workspace.write('signing.jwk.json', jwk);
  const clock = { now: T0 };
  const settings: InternalTokenSettings = { signingKeyFile: keyFile, issuer: 'https://keycard.test', lifetime: options.lifetime ?? 60_000, header: 'x-keycard-token', ...options.settings };
  const issuer = new InternalTokenIssuer(settings, { now: () => clock.now, ...(options.cacheSize !== undefined && { cacheSize: options.cacheSize }) });
  await issuer.load();
  return { issuer, clock, jwk, keyFile };
}

/** Verifies `token` against the issuer's published key set at `nowMs`. */
async function verify(issuer: InternalTokenIssuer, token: string, nowMs = T0): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks!), { currentDate: new Date(nowMs), issuer: 'https://keycard.test', typ: 'keycard-id+jwt' });
  return payload;
}

describe('signing', () => {
  it('carries subject, service, sorted roles and credential, signed with the published key', async () => {
    const { issuer, jwk } = await setup();
    const token = await issuer.issue(alice(), 'orders', ['support', 'customer']);
    const payload = await verify(issuer, token);
    expect(payload).toMatchObject({ iss: 'https://keycard.test', sub: 'alice', aud: 'orders', roles: ['customer', 'support'], cred: 'jwt', idp: 'corp-idp', iat: T0 / 1000, exp: T0 / 1000 + 60 });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: jwk.kid, typ: 'keycard-id+jwt' });
  });

  it('publishes only the public half of the key', async () => {
    const { issuer, jwk } = await setup();
    const [published] = issuer.jwks!.keys;
    expect(issuer.jwks!.keys).toHaveLength(1);
    expect(published).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: jwk.kid, alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(issuer.jwks)).not.toContain(jwk.d);
  });

  it.each(['ES384', 'EdDSA', 'RS256', 'PS256'] as const)('signs with %s keys', async (alg) => {
    const { issuer } = await setup({ alg });
    const token = await issuer.issue(alice(), 'orders', []);
    expect(decodeProtectedHeader(token).alg).toBe(alg);
    expect((await verify(issuer, token)).roles).toEqual([]);
  });

  it('refuses to issue before the key is loaded', async () => {
    workspace = new Workspace();
    const issuer = new InternalTokenIssuer({ signingKeyFile: workspace.write('k.json', await privateJwk()), issuer: 'keycard', lifetime: 60_000, header: 'x-keycard-token' });
    await expect(issuer.issue(alice(), 'orders', [])).rejects.toThrow(/not loaded/);
    expect(issuer.jwks).toBeUndefined();
  });
});

describe('reuse of issued tokens', () => {
  it('hands out the same token for the same caller, service and roles (in any order)', async () => {
    const { issuer } = await setup();
    const first = await issuer.issue(alice(), 'orders', ['b', 'a']);
    expect(await issuer.issue(alice(), 'orders', ['a', 'b'])).toBe(first);
  });

  it('signs a new token for other roles, another service, credential, issuer or subject', async () => {
    const { issuer } = await setup();
    const first = await issuer.issue(alice(), 'orders', ['a']);
    const others = [
      await issuer.issue(alice(), 'orders', ['a', 'b']),
      await issuer.issue(alice(), 'billing', ['a']),
      await issuer.issue(alice({ credential: 'api_key' }), 'orders', ['a']),
      await issuer.issue(alice({ issuer: 'partner-idp' }), 'orders', ['a']),
      await issuer.issue(alice({ subject: 'bob' }), 'orders', ['a']),
    ];
    expect(new Set([first, ...others]).size).toBe(6);
    expect((await verify(issuer, others[0]!)).roles).toEqual(['a', 'b']);
    expect((await verify(issuer, others[2]!)).cred).toBe('api_key');
    expect((await verify(issuer, others[3]!)).idp).toBe('partner-idp');
  });

  it('reuses a token while more than half of its lifetime remains, then signs a new one', async () => {
    const { issuer, clock } = await setup({ lifetime: 60_000 });
    const first = await issuer.issue(alice(), 'orders', []);
    clock.now = T0 + 29_999;
    expect(await issuer.issue(alice(), 'orders', [])).toBe(first);
    clock.now = T0 + 30_000;
    const second = await issuer.issue(alice(), 'orders', []);
    expect(second).not.toBe(first);
    expect(await verify(issuer, second, clock.now)).toMatchObject({ iat: T0 / 1000 + 30, exp: T0 / 1000 + 90 });
  });

  it('signs once for concurrent requests of the same caller', async () => {
    const { issuer } = await setup();
    const tokens = await Promise.all(Array.from({ length: 5 }, () => issuer.issue(alice(), 'orders', ['a'])));
    expect(new Set(tokens).size).toBe(1);
  });

  it('keeps a bounded number of tokens (least recently used goes first)', async () => {
    const { issuer } = await setup({ cacheSize: 2 });
    const first = await issuer.issue(alice({ subject: 'u1' }), 'orders', []);
    await issuer.issue(alice({ subject: 'u2' }), 'orders', []);
    await issuer.issue(alice({ subject: 'u3' }), 'orders', []);
    expect(await issuer.issue(alice({ subject: 'u1' }), 'orders', [])).not.toBe(first);
  });
});

describe('expiry', () => {
  it('never outlives the caller’s own credential', async () => {
    const { issuer } = await setup({ lifetime: 60_000 });
    const token = await issuer.issue(alice({ expiresAt: T0 / 1000 + 10.7 }), 'orders', []);
    expect(await verify(issuer, token)).toMatchObject({ iat: T0 / 1000, exp: T0 / 1000 + 10 });
  });

  it('does not hand a cached token to a caller whose credential expires sooner', async () => {
    const { issuer } = await setup({ lifetime: 60_000 });
    const long = await issuer.issue(alice(), 'orders', []);
    const short = await issuer.issue(alice({ expiresAt: T0 / 1000 + 5 }), 'orders', []);
    expect(short).not.toBe(long);
    expect((await verify(issuer, short)).exp).toBe(T0 / 1000 + 5);
  });

  it('denies token_expired for a credential already past its exp (accepted within the clock skew)', async () => {
    const { issuer } = await setup();
    const error = await issuer.issue(alice({ expiresAt: T0 / 1000 - 5 }), 'orders', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DenyError);
    expect((error as DenyError).reason).toBe('token_expired');
    await expect(issuer.issue(alice({ expiresAt: Number.NaN }), 'orders', [])).rejects.toBeInstanceOf(DenyError);
  });

  it('uses the configured lifetime and issuer', async () => {
    const { issuer } = await setup({ lifetime: 1_000, settings: { issuer: 'https://keycard.test' } });
    const payload = await verify(issuer, await issuer.issue(alice(), 'orders', []));
    expect(payload.exp! - payload.iat!).toBe(1);
  });
});

describe('key file errors', () => {
  /** The ConfigError loading `content` as the signing key gives; it names the file and never quotes a secret. */
  async function loadError(content: string | object | undefined, secret?: string): Promise<ConfigError> {
    workspace = new Workspace();
    const file = content === undefined ? workspace.path('missing.json') : workspace.write('key.json', content);
    const issuer = new InternalTokenIssuer({ signingKeyFile: file, issuer: 'keycard', lifetime: 60_000, header: 'x-keycard-token' });
    const error = await issuer.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.issues[0]!.file).toBe(file);
    expect(configError.message).toContain(file);
    if (secret) expect(configError.message).not.toContain(secret);
    return configError;
  }

  it('a missing file', async () => {
    const error = await loadError(undefined);
    expect(error.issues[0]!.code).toBe('file_unreadable');
    expect(error.message).toContain('ENOENT');
  });

  it('not JSON, without quoting the content', async () => {
    expect((await loadError('{"d": "s3cret-material", oops', 's3cret-material')).message).toMatch(/not valid JSON/);
  });

  it('a symmetric (oct) key', async () => {
    expect((await loadError({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'h', alg: 'HS256' }, 'c2VjcmV0LXNlY3JldC1zZWNyZXQ')).message).toMatch(/symmetric \("oct"\)/);
  });

  it('a key without kid', async () => {
    const { kid: _kid, ...jwk } = await privateJwk();
    expect((await loadError(jwk, jwk.d)).message).toMatch(/no "kid"/);
  });

  it('a key without alg, or with an alg keycard does not sign with', async () => {
    const { alg: _alg, ...jwk } = await privateJwk();
    expect((await loadError(jwk, jwk.d)).message).toMatch(/has no "alg"/);
    expect((await loadError({ ...jwk, alg: 'HS256' }, jwk.d)).message).toMatch(/alg "HS256"; keycard signs with ES256/);
    expect((await loadError({ ...jwk, alg: 'none' }, jwk.d)).message).toMatch(/alg "none"/);
  });

  it('a public key only', async () => {
    const { d: _d, ...jwk } = await privateJwk();
    expect((await loadError(jwk)).message).toMatch(/is a public key; it must be the private JWK/);
  });

  it('an alg that does not fit the key type or curve', async () => {
    const rsa = await privateJwk('RS256');
    expect((await loadError({ ...rsa, alg: 'ES256' }, rsa.d)).message).toMatch(/alg ES256, which needs a EC P-256 key, not RSA/);
    const p384 = await privateJwk('ES384');
    expect((await loadError({ ...p384, alg: 'ES256' }, p384.d)).message).toMatch(/needs a EC P-256 key, not EC P-384/);
    const ec = await privateJwk('ES256');
    expect((await loadError({ ...ec, alg: 'EdDSA' }, ec.d)).message).toMatch(/needs a OKP Ed25519 key/);
  });

  it('a JWK set instead of one key', async () => {
    const jwk = await privateJwk();
    expect((await loadError({ keys: [jwk] }, jwk.d)).message).toMatch(/is a JWK set/);
  });

  it('an RSA key shorter than 2048 bits', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'small', alg: 'RS256' };
    expect((await loadError(jwk, jwk.d)).message).toMatch(/shorter than 2048 bits/);
  });

  it('a key whose private part does not match its public part', async () => {
    const mine = await privateJwk();
    const other = await privateJwk();
    expect((await loadError({ ...mine, d: other.d }, other.d)).message).toMatch(/not a usable ES256 private key/);
  });

  it('a key with use "enc"', async () => {
    const jwk = await privateJwk();
    expect((await loadError({ ...jwk, use: 'enc' }, jwk.d)).message).toMatch(/use "enc"/);
  });
});

describe('additional public keys (rotation)', () => {
  async function publicJwk(alg: Alg, kid: string): Promise<JWK> {
    const { publicKey } = await generateKeyPair(alg, { extractable: true });
    return { ...(await exportJWK(publicKey)), kid, alg };
  }

  it('are published after the signing key, which keeps signing', async () => {
    workspace = new Workspace();
    const signing = await privateJwk('ES256', 'current');
    const next = await publicJwk('EdDSA', 'next');
    const settings = {
      signingKeyFile: workspace.write('signing.json', signing),
      additionalPublicKeysFile: workspace.write('next.jwks.json', { keys: [next] }),
      issuer: 'keycard',
      lifetime: 60_000,
      header: 'x-keycard-token',
    };
    const issuer = new InternalTokenIssuer(settings);
    await issuer.load();
    expect(issuer.jwks!.keys.map((key) => key.kid)).toEqual(['current', 'next']);
    expect(publicKeySet(settings)).toEqual(issuer.jwks);
    const token = await issuer.issue(alice({ expiresAt: Date.now() / 1000 + 600 }), 'orders', []);
    expect(decodeProtectedHeader(token).kid).toBe('current');
    await compactVerify(token, createLocalJWKSet(issuer.jwks!));
  });

  it('refuse private keys, a repeated kid and anything but a JWK set', async () => {
    workspace = new Workspace();
    const signingKeyFile = workspace.write('signing.json', await privateJwk('ES256', 'current'));
    const refused = async (content: object) => {
      const additionalPublicKeysFile = workspace.write('extra.json', content);
      const error = (() => {
        try {
          publicKeySet({ signingKeyFile, additionalPublicKeysFile });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues[0]!.file).toBe(additionalPublicKeysFile);
      return (error as ConfigError).message;
    };
    const secret = await privateJwk('ES256', 'other');
    expect(await refused({ keys: [secret] })).toMatch(/is a private key; publish only public keys/);
    expect(await refused({ keys: [await publicJwk('ES256', 'current')] })).toMatch(/kid "current" is used twice/);
    expect(await refused(await publicJwk('ES256', 'x'))).toMatch(/must be a JWK set/);
    expect(await refused({ keys: [{ kty: 'oct', k: 'abc', kid: 'h', alg: 'HS256' }] })).toMatch(/symmetric/);
  });
});

describe('readSigningKeyFile', () => {
  it('reads the kid and alg of a good key', async () => {
    workspace = new Workspace();
    const jwk = await privateJwk('EdDSA', 'ed-1');
    const key = readSigningKeyFile(workspace.write('k.json', jwk));
    expect(key).toMatchObject({ kid: 'ed-1', alg: 'EdDSA', publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'ed-1', alg: 'EdDSA', use: 'sig' } });
  });
});
