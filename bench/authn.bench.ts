// The identity phase: a token the cache has seen, and a cold verification (cache miss) next to
// jose's raw jwtVerify with the same key and checks, which is what the cold path cannot beat.
import { afterAll, bench, describe } from 'vitest';
import { importJWK, jwtVerify } from 'jose';
import { Authenticator, type Issuer } from '../src/authn/authenticator.js';
import { fileLoader, KeySet } from '../src/authn/key-set.js';
import { TokenCache } from '../src/authn/token-cache.js';
import type { IssuerSettings } from '../src/config/settings.js';
import { jwks, makeKey, signToken } from '../test/helpers/keys.js';
import { Workspace } from '../test/helpers/workspace.js';

const ISSUER = 'https://idp.bench.example/';
const key = await makeKey('RS256', 'bench-rs256');
const workspace = new Workspace();
afterAll(() => workspace.remove());
const keys = new KeySet(fileLoader(workspace.write('jwks.json', jwks(key))), { refreshIntervalMs: 3_600_000, minRefreshIntervalMs: 0 });
await keys.start();
keys.stop();
const settings = { name: 'bench-idp', issuer: ISSUER, audiences: ['shop'], algorithms: ['RS256'] } as unknown as IssuerSettings;
const issuers: Issuer[] = [{ settings, keys }];
const options = { clockSkewMs: 30_000, maxTokenBytes: 8192 };
const tokens = await Promise.all(['alice', 'bob'].map((sub) => signToken(key, { iss: ISSUER, aud: 'shop', sub, expiresIn: 3600 })));
const header = (token: string) => (name: string) => (name === 'authorization' ? `Bearer ${token}` : undefined);
const headers = tokens.map(header);

const warm = new Authenticator(issuers, new TokenCache(100, 300_000), options);
await warm.authenticate(headers[0]!, undefined);
// A cache of one entry and two tokens taken in turn: every lookup misses and verifies.
const cold = new Authenticator(issuers, new TokenCache(1, 300_000), options);
const publicKey = await importJWK(key.publicJwk, 'RS256');
let turn = 0;

describe('identity', () => {
  bench('token cache hit (bearer parse, SHA-256 key, LRU lookup)', async () => {
    await warm.authenticate(headers[0]!, ['bench-idp']);
  });
  bench('cold JWT verify through keycard (RS256, cache miss)', async () => {
    await cold.authenticate(headers[turn++ & 1]!, ['bench-idp']);
  });
  bench("jose's raw jwtVerify (RS256, same key and checks)", async () => {
    await jwtVerify(tokens[turn++ & 1]!, publicKey, { issuer: ISSUER, audience: ['shop'], algorithms: ['RS256'], clockTolerance: 30, requiredClaims: ['sub', 'exp'] });
  });
});
