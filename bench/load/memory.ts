// Memory under many tokens: one in-process keycard (the load benchmark's policy and store) decides
// 1,000,000 requests carrying 100,000 distinct tokens (each used in a burst of 10, 64 requests in
// flight), and reports its resident memory and heap: the token cache is bounded (jwt.cacheSize),
// so memory must level off rather than grow with the tokens. ES256 tokens, because signing 100,000
// RS256 tokens would take minutes; what a cache entry holds does not depend on the algorithm.
// Usage: node --expose-gc build/bench/bench/load/memory.js [--requests N] [--tokens N] [--out FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Keycard } from '../../src/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { checkRequestToInput } from '../../src/protocol/check-request.js';
import { decodeCheckRequest } from '../../src/protocol/check-codec.js';
import { jwks, makeKey, signToken } from '../../test/helpers/keys.js';
import { Workspace } from '../../test/helpers/workspace.js';
import { AUDIENCE, createScenario, ISSUER, MEMORY_STORE, policyYaml, seedYaml, settingsYaml, SUBJECT } from './scenario.js';

export interface MemoryResult {
  readonly requests: number;
  readonly tokens: number;
  readonly cacheSize: number;
  /** Deciding the requests (signing the tokens before is not counted). */
  readonly seconds: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  /** Heap in use after a full GC, before the requests (the signed tokens are already held) and after them. */
  readonly heapBeforeGcMiB: number;
  readonly heapAfterGcMiB: number;
  readonly allowed: number;
}

const MiB = 2 ** 20;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000000' }, tokens: { type: 'string', default: '100000' }, out: { type: 'string' } } });
  const requests = Number(values.requests);
  const tokenCount = Number(values.tokens);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

  const key = await makeKey('ES256', 'bench-es256');
  const workspace = new Workspace().writeAll({ 'jwks.json': jwks(key), 'policies/catalog.yaml': policyYaml(), 'seed.yaml': seedYaml() });
  try {
    const settingsText = settingsYaml(MEMORY_STORE).replace('algorithms: [RS256]', 'algorithms: [ES256]').replace('output: audit.log', 'output: /dev/null');
    const settings = loadSettings(workspace.write('keycard.yaml', settingsText));
    const keycard = new Keycard(settings, createLogger('warn'));
    await keycard.load();
    // The scenario's Envoy-shaped request; only the bearer token changes from one request to the next.
    const scenario = await createScenario();
    const base = checkRequestToInput(decodeCheckRequest(scenario.frame.subarray(5)));
    scenario.workspace.remove();

    const tokens: string[] = [];
    for (let i = 0; i < tokenCount; i++) tokens.push(await signToken(key, { iss: ISSUER, aud: AUDIENCE, sub: SUBJECT, expiresIn: 3600, claims: { jti: `t-${i}` } }));
    gc();
    const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
    const started = performance.now();

    let next = 0;
    let allowed = 0;
    const burst = Math.max(1, Math.floor(requests / tokenCount));
    const lane = async () => {
      for (let i = next++; i < requests; i = next++) {
        const headers = new Map(base.headers);
        headers.set('authorization', `Bearer ${tokens[Math.floor(i / burst) % tokenCount]}`);
        if ((await keycard.pipeline.decide({ ...base, headers })).allowed) allowed++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
    const seconds = (performance.now() - started) / 1000;
    const rssAfter = process.memoryUsage().rss;
    gc();
    const result: MemoryResult = {
      requests,
      tokens: tokenCount,
      cacheSize: settings.jwt.cacheSize,
      seconds,
      rssBeforeMiB: rssBefore / MiB,
      rssAfterMiB: rssAfter / MiB,
      heapBeforeGcMiB: heapBefore / MiB,
      heapAfterGcMiB: process.memoryUsage().heapUsed / MiB,
      allowed,
    };
    await keycard.stop();
    console.log(JSON.stringify(result));
    if (values.out) writeFileSync(values.out, JSON.stringify(result));
  } finally {
    workspace.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
