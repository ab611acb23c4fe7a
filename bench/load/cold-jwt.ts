// Cold JWT verification (a token-cache miss) through keycard's Authenticator next to jose's raw
// jwtVerify with the same key and checks, in alternating rounds so that the machine's background
// load hits both alike; the ratio is the median of the per-round ratios. RS256, as the load test.
// Usage: node build/bench/bench/load/cold-jwt.js [--rounds N] [--per-round N] [--out FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importJWK, jwtVerify } from 'jose';
import { Authenticator } from '../../src/authn/authenticator.js';
import { KeySet } from '../../src/authn/key-set.js';
import { TokenCache } from '../../src/authn/token-cache.js';
import type { IssuerSettings } from '../../src/config/settings.js';
import { jwks, makeKey, signToken } from '../../test/helpers/keys.js';
import { median } from './report.js';
import { AUDIENCE, ISSUER } from './scenario.js';

export interface ColdJwtResult {
  readonly rounds: number;
  readonly perRound: number;
  /** Median of the rounds' mean µs per verification. */
  readonly keycardUs: number;
  readonly joseUs: number;
  /** Median of the per-round ratios keycard ÷ jose. */
  readonly ratio: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '21' }, 'per-round': { type: 'string', default: '400' }, out: { type: 'string' } } });
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const key = await makeKey('RS256', 'bench-rs256');
  const keys = new KeySet({ description: 'bench', load: async () => jwks(key) }, { refreshIntervalMs: 3_600_000, minRefreshIntervalMs: 0 });
  await keys.start();
  keys.stop();
  const settings = { name: 'bench-idp', issuer: ISSUER, audiences: [AUDIENCE], algorithms: ['RS256'] } as unknown as IssuerSettings;
  // A cache of one entry and two tokens taken in turn: every lookup misses and verifies.
  const authenticator = new Authenticator([{ settings, keys }], new TokenCache(1, 300_000), { clockSkewMs: 30_000, maxTokenBytes: 8192 });
  const tokens = await Promise.all(['alice', 'bob'].map((sub) => signToken(key, { iss: ISSUER, aud: AUDIENCE, sub, expiresIn: 3600 })));
  const headers = tokens.map((token) => (name: string) => (name === 'authorization' ? `Bearer ${token}` : undefined));
  const publicKey = await importJWK(key.publicJwk, 'RS256');
  const options = { issuer: ISSUER, audience: [AUDIENCE], algorithms: ['RS256'], clockTolerance: 30, requiredClaims: ['sub', 'exp'] };

  const keycardRound = async () => {
    for (let i = 0; i < perRound; i++) await authenticator.authenticate(headers[i & 1]!, ['bench-idp']);
  };
  const joseRound = async () => {
    for (let i = 0; i < perRound; i++) await jwtVerify(tokens[i & 1]!, publicKey, options);
  };
  const timed = async (round: () => Promise<void>) => {
    const started = performance.now();
    await round();
    return ((performance.now() - started) * 1000) / perRound;
  };
  await keycardRound(); // warm-up
  await joseRound();
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      ours.push(await timed(keycardRound));
      theirs.push(await timed(joseRound));
    } else {
      theirs.push(await timed(joseRound));
      ours.push(await timed(keycardRound));
    }
  }
  const result: ColdJwtResult = { rounds, perRound, keycardUs: median(ours), joseUs: median(theirs), ratio: median(ours.map((value, i) => value / theirs[i]!)) };
  console.log(JSON.stringify(result));
  if (values.out) writeFileSync(values.out, JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
