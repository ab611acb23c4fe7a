// API keys: the key format, the pepper, and the provider against a real memory store — where it
// finds a key, every way a key is refused (each with its reason and a detail that never holds the
// secret), the identity a key stands for, immediate refusal after a delete, and store failures.
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKeySecret, parseApiKey } from '../../src/authn/credentials/api-key-format.js';
import { ApiKeyProvider } from '../../src/authn/credentials/api-key.js';
import { loadPepper, MIN_PEPPER_BYTES } from '../../src/authn/credentials/pepper.js';
import { credentialRequest } from '../../src/authn/credentials/request-source.js';
import type { CredentialSpecOf } from '../../src/authn/credentials/types.js';
import { IdentityPhase } from '../../src/authn/identity-phase.js';
import { ConfigError, DenyError } from '../../src/errors.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { ApiKeyRecord } from '../../src/state/store.js';
import { authzInput } from '../helpers/pipeline.js';

const PEPPER = Buffer.from('a-pepper-of-more-than-16-bytes');
const NOW = Date.UTC(2026, 0, 1);
const SECONDS = NOW / 1000;
const HEADER: CredentialSpecOf<'api_key'> = { kind: 'api_key', header: 'x-api-key', query: undefined };
const BOTH: CredentialSpecOf<'api_key'> = { kind: 'api_key', header: 'x-api-key', query: 'api_key' };

async function setup(extra: Partial<ApiKeyRecord> = {}) {
  const store = new MemoryStore([], [], () => NOW);
  const created = generateApiKey();
  const record: ApiKeyRecord = { id: created.id, subject: 'svc:ci', hash: hashApiKeySecret(PEPPER, created.secret), scopes: ['orders:read', 'orders:write'], createdAt: SECONDS - 60, ...extra };
  await store.putApiKey(record);
  let pepperReads = 0;
  const pepper = () => {
    pepperReads++;
    return PEPPER;
  };
  const provider = new ApiKeyProvider({ store, pepper, now: () => NOW });
  const verify = (key: string, spec: CredentialSpecOf<'api_key'> = HEADER, path = '/orders') => {
    const found = provider.find(credentialRequest(authzInput('orders', path, { headers: new Map([['x-api-key', key]]) })), spec);
    if (!found) throw new Error('no key found');
    return found.verify();
  };
  return { store, created, record, provider, verify, pepperReads: () => pepperReads };
}

async function denied(promise: Promise<unknown>): Promise<DenyError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(DenyError);
  return error as DenyError;
}

describe('API key format', () => {
  it('makes kc_<12 base62>_<43 base64url> keys, each different, that parse back', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    for (const { id, secret, key } of keys) {
      expect(key).toMatch(/^kc_[0-9A-Za-z]{12}_[A-Za-z0-9_-]{43}$/);
      expect(parseApiKey(key)).toEqual({ ok: true, id, secret });
    }
    expect(new Set(keys.map((key) => key.id)).size).toBe(200);
    // Every base62 character turns up: the id alphabet is not accidentally narrowed.
    expect(new Set(keys.flatMap((key) => [...key.id])).size).toBe(62);
  });

  it('names the part of a malformed key that is wrong', () => {
    expect(parseApiKey('sk_live_abc')).toEqual({ ok: false, problem: 'the API key does not start with "kc_"' });
    expect(parseApiKey('kc_short_x')).toMatchObject({ ok: false, problem: 'the API key id is not 12 letters and digits' });
    expect(parseApiKey(`kc_AbCdEfGh1234-${'a'.repeat(43)}`)).toMatchObject({ ok: false, problem: 'the API key id AbCdEfGh1234 is not followed by "_"' });
    expect(parseApiKey(`kc_AbCdEfGh1234_${'a'.repeat(42)}`)).toMatchObject({ problem: 'the secret of API key AbCdEfGh1234 is not 43 base64url characters (got 42 characters)' });
    expect(parseApiKey(`kc_AbCdEfGh1234_${'a'.repeat(42)}=`)).toMatchObject({ ok: false });
  });

  it('hashes with the pepper: another pepper gives another hash', () => {
    expect(hashApiKeySecret(PEPPER, 'secret')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashApiKeySecret(PEPPER, 'secret')).not.toBe(hashApiKeySecret(Buffer.from('another-pepper-of-16+bytes'), 'secret'));
  });
});

describe('API key pepper', () => {
  const environment = (env: Record<string, string>, files: Record<string, string> = {}) => ({
    env,
    readFile: (path: string) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return files[path]!;
    },
  });

  it('reads the file (trimmed) or the environment variable', () => {
    expect(loadPepper({ pepperFile: '/p' }, 'k.yaml', environment({}, { '/p': '  0123456789abcdef\n' }))).toEqual(Buffer.from('0123456789abcdef'));
    expect(loadPepper({ pepperEnv: 'P' }, 'k.yaml', environment({ P: '0123456789abcdefXYZ' }))).toEqual(Buffer.from('0123456789abcdefXYZ'));
  });

  it('refuses a missing file or variable, an empty or short pepper, naming the settings key and never the value', () => {
    const problem = (settings: { pepperFile?: string; pepperEnv?: string }, env: Record<string, string>, files: Record<string, string> = {}) => {
      try {
        loadPepper(settings, 'k.yaml', environment(env, files));
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('no error');
    };
    expect(problem({ pepperFile: '/missing' }, {})).toBe('k.yaml [file_unreadable] apiKeys.pepperFile: the API key pepper cannot be read from /missing: ENOENT');
    expect(problem({ pepperEnv: 'P' }, {})).toBe('k.yaml [missing_key] apiKeys.pepperEnv: the environment variable P (the API key pepper) is not set or empty');
    expect(problem({ pepperEnv: 'P' }, { P: '   ' })).toContain('the API key pepper is empty');
    const short = problem({ pepperFile: '/p' }, {}, { '/p': 'short-secret' });
    expect(short).toBe(`k.yaml [invalid_value] apiKeys.pepperFile: the API key pepper is 12 bytes; it needs at least ${MIN_PEPPER_BYTES} (e.g. openssl rand -base64 32)`);
    expect(short).not.toContain('short-secret');
  });
});

describe('ApiKeyProvider', () => {
  it('accepts a valid key as its subject, with scope, jti (the id), iat and exp claims', async () => {
    const { created, verify } = await setup({ expiresAt: SECONDS + 3600, name: 'ci' });
    expect(await verify(created.key)).toEqual({
      authenticated: true,
      subject: 'svc:ci',
      issuer: 'api-key',
      credential: 'api_key',
      claims: { sub: 'svc:ci', scope: 'orders:read orders:write', jti: created.id, iat: SECONDS - 60, exp: SECONDS + 3600 },
      expiresAt: SECONDS + 3600,
    });
  });

  it('finds the key in the header or the query parameter, and accepts "Bearer kc_…"', async () => {
    const { created, provider } = await setup();
    const inQuery = provider.find(credentialRequest(authzInput('orders', `/orders?x=1&api_key=${created.key}`)), BOTH);
    expect(inQuery).toMatchObject({ kind: 'api_key', carrier: 'query:api_key', claim: 'certain' });
    expect((await inQuery!.verify()).subject).toBe('svc:ci');
    const bearer = provider.find(credentialRequest(authzInput('orders', '/', { headers: new Map([['authorization', `Bearer ${created.key}`]]) })), { kind: 'api_key', header: 'authorization', query: undefined });
    expect(bearer).toMatchObject({ carrier: 'header:authorization', claim: 'certain' });
    expect((await bearer!.verify()).subject).toBe('svc:ci');
    expect(provider.find(credentialRequest(authzInput('orders', '/orders')), BOTH)).toBeUndefined();
  });

  it('leaves something of another shape to another method on the same header (fallback)', async () => {
    const { provider } = await setup();
    const found = provider.find(credentialRequest(authzInput('orders', '/', { headers: new Map([['authorization', 'Bearer eyJhbGciOi.x.y']]) })), { kind: 'api_key', header: 'authorization', query: undefined });
    expect(found?.claim).toBe('fallback');
    expect(await denied(found!.verify())).toMatchObject({ reason: 'invalid_api_key', detail: 'the API key does not start with "kc_"' });
  });

  it('refuses a key in both the header and the query of one entry as ambiguous', async () => {
    const { created, provider } = await setup();
    const request = credentialRequest(authzInput('orders', `/orders?api_key=${created.key}`, { headers: new Map([['x-api-key', created.key]]) }));
    expect(() => provider.find(request, BOTH)).toThrow(new DenyError('ambiguous_credentials', 'API keys in header:x-api-key and query:api_key'));
  });

  it('refuses a malformed key, an unknown id and a wrong secret with invalid_api_key; the detail never holds the secret', async () => {
    const { created, verify } = await setup();
    const wrongSecret = `kc_${created.id}_${generateApiKey().secret}`;
    const other = generateApiKey();
    const unknownId = `kc_${other.id}_${created.secret}`;
    const cases: [string, string][] = [
      ['not-a-key', 'the API key does not start with "kc_"'],
      [created.key.slice(0, -1), `the secret of API key ${created.id} is not 43 base64url characters (got 42 characters)`],
      [unknownId, `no API key ${other.id}`],
      [wrongSecret, `the secret of API key ${created.id} does not match`],
      [`kc_${'x'.repeat(300)}`, 'the API key is 303 characters long'],
    ];
    for (const [key, detail] of cases) {
      const error = await denied(verify(key));
      expect(error).toMatchObject({ reason: 'invalid_api_key', detail });
      expect(error.message).not.toContain(created.secret);
    }
  });

  it('refuses an expired key with api_key_expired, but only to a caller holding its secret', async () => {
    const { created, verify } = await setup({ expiresAt: SECONDS });
    expect(await denied(verify(created.key))).toMatchObject({ reason: 'api_key_expired', detail: `API key ${created.id} expired at 2026-01-01T00:00:00.000Z` });
    expect((await denied(verify(`kc_${created.id}_${generateApiKey().secret}`))).reason).toBe('invalid_api_key');
  });

  it('refuses a deleted key at the next request', async () => {
    const { created, store, verify } = await setup();
    expect((await verify(created.key)).subject).toBe('svc:ci');
    await store.deleteApiKey(created.id);
    expect(await denied(verify(created.key))).toMatchObject({ reason: 'invalid_api_key', detail: `no API key ${created.id}` });
  });

  it('a key hashed under another pepper does not verify', async () => {
    const { created, store, verify, record } = await setup();
    await store.putApiKey({ ...record, hash: hashApiKeySecret(Buffer.from('the-old-pepper-16-bytes'), created.secret) });
    expect((await denied(verify(created.key))).detail).toBe(`the secret of API key ${created.id} does not match`);
  });

  it('a failing store is store_unavailable (503), not an allow or an internal error', async () => {
    const { created } = await setup();
    class BrokenStore extends MemoryStore {
      override readonly kind = 'broken';
      override apiKey(): Promise<undefined> {
        return Promise.reject(new Error('connection refused'));
      }
    }
    const provider = new ApiKeyProvider({ store: new BrokenStore(), pepper: () => PEPPER });
    const found = provider.find(credentialRequest(authzInput('orders', '/', { headers: new Map([['x-api-key', created.key]]) })), HEADER)!;
    expect(await denied(found.verify())).toMatchObject({ reason: 'store_unavailable', detail: 'broken store: connection refused' });
  });

  it('reads the pepper only when a key is verified', async () => {
    const { created, provider, verify, pepperReads } = await setup();
    provider.find(credentialRequest(authzInput('orders', '/', { headers: new Map([['x-api-key', created.key]]) })), HEADER);
    expect(pepperReads()).toBe(0);
    await verify(created.key);
    expect(pepperReads()).toBe(1);
  });

  it('works through the identity phase, beside a JWT method on another header', async () => {
    const { created, provider } = await setup();
    const phase = new IdentityPhase({ api_key: provider });
    const config = { credentials: [HEADER], onMultiple: 'reject' } as const;
    expect(await phase.authenticate(credentialRequest(authzInput('orders', '/', { headers: new Map([['x-api-key', created.key]]) })), config)).toMatchObject({ subject: 'svc:ci', credential: 'api_key' });
    expect(await phase.authenticate(credentialRequest(authzInput('orders', '/')), config)).toEqual({ authenticated: false });
  });
});
