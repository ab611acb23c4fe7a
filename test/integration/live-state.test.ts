// Live state across replicas: one private redis-server and three keycard processes sharing it.
// A revocation or role removal written to Redis must be enforced by every replica (each answering
// from its cache until the change arrives); Redis going away must give prompt 503s (or stale
// answers where a policy allows them) and never an allowed revoked token; Redis coming back, or the
// change feed reconnecting, must recover without restarting keycard.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { redisKeys, roleMember } from '../../src/state/redis/keys.js';
import type { RedisStore } from '../../src/state/redis/redis-store.js';
import type { Revocation } from '../../src/state/store.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { RedisServer } from '../helpers/redis-server.js';
import { eventually, openRedisStore, uniquePrefix } from '../helpers/redis-store.js';
import { Workspace } from '../helpers/workspace.js';

/** The generous bound every change must be enforced within, on every replica. */
const PROPAGATION_BOUND_MS = 2000;
/** The generous bound every Check must be answered within, Redis up or down. */
const CHECK_BOUND_MS = 2000;

const policy = (service: string, store = '') => `
service: ${service}
${store}
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/items/{id}"] }, when: [{ role: customer }] }
`;

interface Replica {
  readonly keycard: KeycardProcess;
  readonly client: AuthorizationClient;
}

let server: RedisServer;
let workspace: Workspace;
let key: TestKey;
let keyPrefix: string;
let writer: RedisStore;
const replicas: Replica[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  keyPrefix = uniquePrefix();
  key = await makeKey('ES256');
  workspace = new Workspace().writeAll({
    'keycard.yaml': `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - { name: test-idp, issuer: "https://idp.test.example/", audiences: [shop], jwksFile: jwks.json, algorithms: [ES256] }
policies: { dir: policies, watch: false }
store:
  type: redis
  url: ${server.url()}
  keyPrefix: "${keyPrefix}"
  commandTimeout: 250ms
  connectTimeout: 1s
  cache: { maxEntries: 1000, ttl: 30s }
audit: { output: "off" }
log: { level: warn }
`,
    'jwks.json': jwks(key),
    'policies/strict.yaml': policy('strict'),
    'policies/lenient.yaml': policy('lenient', 'store: { onError: serve-stale, maxStale: 30s }'),
  });
  writer = await openRedisStore(server, { keyPrefix });
  for (let i = 0; i < 3; i++) {
    const keycard = await startKeycard(workspace.path('keycard.yaml'));
    replicas.push({ keycard, client: createCheckClient(keycard.grpcAddress) });
  }
  await everyReplicaReady();
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) replica.client.close();
  await Promise.all(replicas.map((replica) => replica.keycard.stop()));
  await writer?.close();
  await server?.remove();
  workspace?.remove();
});

/** `allow`, or the deny reason. */
function outcome(response: CheckResponse__Output): string {
  if (response.status?.code === 0) return 'allow';
  return (JSON.parse(response.denied_response?.body ?? '{}') as { reason?: string }).reason ?? 'unknown';
}

async function ask(replica: Replica, service: string, token: string): Promise<string> {
  return outcome(await check(replica.client, buildCheckRequest({ service, path: '/items/1', headers: { authorization: `Bearer ${token}` } }), 5000));
}

const askAll = (service: string, token: string) => Promise.all(replicas.map((replica) => ask(replica, service, token)));

const token = (subject: string, jti: string) => signToken(key, { sub: subject, claims: { jti } });

const revocation = (id: string): Revocation => ({ kind: 'token', id, expiresAt: Math.floor(Date.now() / 1000) + 3600 });

async function readyz(replica: Replica): Promise<{ status: number; body: string }> {
  const response = await fetch(`${replica.keycard.adminUrl}/readyz`);
  return { status: response.status, body: await response.text() };
}

async function everyReplicaReady(timeoutMs = 15_000): Promise<void> {
  await eventually(async () => (await Promise.all(replicas.map(readyz))).every((ready) => ready.status === 200), timeoutMs, 'every replica ready');
}

/** Checks `replica` back to back until it answers `expected`; the ms from `since` to that answer. */
async function msUntil(replica: Replica, service: string, bearer: string, expected: string, since: number, boundMs: number): Promise<number> {
  for (;;) {
    const answer = await ask(replica, service, bearer);
    const elapsed = performance.now() - since;
    if (answer === expected) return elapsed;
    if (elapsed > boundMs) throw new Error(`replica ${replica.keycard.grpcAddress} still answers ${answer} after ${Math.round(elapsed)}ms`);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function metric(replica: Replica, line: string): Promise<number> {
  const text = await (await fetch(`${replica.keycard.adminUrl}/metrics`)).text();
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('live state across three replicas', () => {
  it('enforces every revocation and role removal on every replica, answering from cache until then', async () => {
    const latencies: { kind: string; ms: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const subject = `prop-${i}`;
      const jti = `prop-jti-${i}`;
      await writer.grantRole({ subject, role: 'customer' });
      const bearer = await token(subject, jti);
      // Every replica allows, twice: the second answer comes from its cache.
      expect(await askAll('strict', bearer)).toEqual(['allow', 'allow', 'allow']);
      expect(await askAll('strict', bearer)).toEqual(['allow', 'allow', 'allow']);

      const kind = i % 2 === 0 ? 'revocation' : 'role removal';
      const expected = kind === 'revocation' ? 'token_revoked' : 'no_matching_rule';
      const started = performance.now();
      const write = kind === 'revocation' ? writer.revoke(revocation(jti)) : writer.revokeRole({ subject, role: 'customer' });
      const perReplica = await Promise.all(replicas.map((replica) => msUntil(replica, 'strict', bearer, expected, started, PROPAGATION_BOUND_MS)));
      await write;
      latencies.push({ kind, ms: Math.max(...perReplica) });
    }
    const sorted = latencies.map((latency) => latency.ms).sort((a, b) => a - b);
    const summary = {
      changes: latencies.length,
      p50Ms: Number(percentile(sorted, 50).toFixed(2)),
      p99Ms: Number(percentile(sorted, 99).toFixed(2)),
      maxMs: Number(sorted[sorted.length - 1]!.toFixed(2)),
    };
    console.log(`live-state propagation (write → denied by all 3 replicas): ${JSON.stringify(summary)}`);
    expect(sorted[sorted.length - 1]).toBeLessThan(PROPAGATION_BOUND_MS);
    for (const replica of replicas) {
      expect(await metric(replica, 'keycard_store_cache_hits_total{op="rolesFor"}')).toBeGreaterThan(0);
      expect(await metric(replica, 'keycard_store_cache_hits_total{op="revocationFor"}')).toBeGreaterThan(0);
      expect(await metric(replica, 'keycard_store_invalidations_total{kind="revocation"}')).toBeGreaterThan(0);
      expect(await metric(replica, 'keycard_store_invalidations_total{kind="roles"}')).toBeGreaterThan(0);
    }
  }, 120_000);

  it('flushes the caches when the change feed connection is killed: a change it missed is enforced after it reconnects', async () => {
    await writer.grantRole({ subject: 'feed-1', role: 'customer' });
    await writer.grantRole({ subject: 'feed-2', role: 'customer' });
    const first = await token('feed-1', 'feed-jti-1');
    const second = await token('feed-2', 'feed-jti-2');
    for (const bearer of [first, second, first, second]) expect(await askAll('strict', bearer)).toEqual(['allow', 'allow', 'allow']);
    const flushesBefore = await Promise.all(replicas.map((replica) => metric(replica, 'keycard_store_invalidations_total{kind="flush"}')));

    // A change no message announces: the role binding removed in Redis behind keycard's back.
    await server.command('SREM', redisKeys(keyPrefix).roles('feed-1'), roleMember({ role: 'customer' }));
    // The replicas cannot know; their caches still answer.
    expect(await askAll('strict', first)).toEqual(['allow', 'allow', 'allow']);

    expect(await server.killPubSubClients()).toBeGreaterThanOrEqual(3);
    // Published while the subscribers are (probably) down: missed or not, it must be enforced.
    await writer.revoke(revocation('feed-jti-2'));
    await eventually(async () => (await askAll('strict', first)).every((answer) => answer === 'no_matching_rule'), 5000, 'the missed role removal is enforced');
    await eventually(async () => (await askAll('strict', second)).every((answer) => answer === 'token_revoked'), 5000, 'the revocation is enforced');
    await everyReplicaReady();
    const flushesAfter = await Promise.all(replicas.map((replica) => metric(replica, 'keycard_store_invalidations_total{kind="flush"}')));
    flushesAfter.forEach((after, index) => expect(after).toBeGreaterThan(flushesBefore[index]!));
  }, 30_000);

  it('answers promptly while Redis is down (503, or stale where allowed), never allows a revoked token, and recovers when it is back', async () => {
    await writer.grantRole({ subject: 'kill-good', role: 'customer' });
    await writer.grantRole({ subject: 'kill-bad', role: 'customer' });
    await writer.revoke(revocation('kill-jti-bad'));
    const good = await token('kill-good', 'kill-jti-good');
    const bad = await token('kill-bad', 'kill-jti-bad');
    for (const service of ['strict', 'lenient']) {
      for (let round = 0; round < 2; round++) {
        expect(await askAll(service, good)).toEqual(['allow', 'allow', 'allow']);
        expect(await askAll(service, bad)).toEqual(['token_revoked', 'token_revoked', 'token_revoked']);
      }
    }
    await server.command('SAVE'); // the restarted server comes back with this snapshot

    type Phase = 'up' | 'killed' | 'noticed' | 'restarting' | 'recovered';
    const phase: Phase[] = replicas.map(() => 'up');
    const records: { replica: number; phase: Phase; service: string; who: string; answer: string; ms: number }[] = [];
    let running = true;
    const traffic = replicas.map(async (replica, index) => {
      while (running) {
        for (const service of ['strict', 'lenient']) {
          for (const [who, bearer] of [['good', good], ['bad', bad]] as const) {
            const at = phase[index]!;
            const started = performance.now();
            let answer: string;
            try {
              answer = await ask(replica, service, bearer);
            } catch (error) {
              answer = `grpc error: ${(error as Error).message}`;
            }
            records.push({ replica: index, phase: at, service, who, answer, ms: performance.now() - started });
          }
        }
      }
    });

    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(server.pid!, 'SIGKILL');
    phase.fill('killed');
    // Each replica notices (its /readyz turns 503, naming the store); from then on it must not use its cache as fresh.
    await Promise.all(
      replicas.map(async (replica, index) => {
        await eventually(async () => (await readyz(replica)).status === 503, 5000, 'readyz reports the store down');
        phase[index] = 'noticed';
      }),
    );
    expect((await readyz(replicas[0]!)).body).toContain('store redis');
    await new Promise((resolve) => setTimeout(resolve, 1000));

    phase.fill('restarting');
    await server.restart();
    await everyReplicaReady();
    phase.fill('recovered');
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(traffic);

    const answers = (filter: (record: (typeof records)[number]) => boolean) => [...new Set(records.filter(filter).map((record) => record.answer))].sort();
    // No Check hung, whatever the state of Redis; a revoked token was never allowed.
    expect(Math.max(...records.map((record) => record.ms))).toBeLessThan(CHECK_BOUND_MS);
    // (While Redis restarts, the caches are flushed: with nothing cached even serve-stale is a 503.)
    expect(answers((record) => record.who === 'bad').filter((answer) => answer !== 'store_unavailable' && answer !== 'token_revoked')).toEqual([]);
    // Once the outage was noticed: fail-closed is 503; serve-stale answers from the cache, the
    // revoked token included.
    const noticed = (service: string, who: string) => (record: (typeof records)[number]) => record.phase === 'noticed' && record.service === service && record.who === who;
    for (const index of replicas.keys()) expect(records.filter((record) => record.replica === index && noticed('strict', 'good')(record)).length).toBeGreaterThan(0);
    expect(answers(noticed('strict', 'good'))).toEqual(['store_unavailable']);
    expect(answers(noticed('strict', 'bad'))).toEqual(['store_unavailable']);
    expect(answers(noticed('lenient', 'good'))).toEqual(['allow']);
    expect(answers(noticed('lenient', 'bad'))).toEqual(['token_revoked']);
    // Back: fresh answers from Redis on every replica, without a restart.
    expect(answers((record) => record.phase === 'recovered' && record.who === 'good')).toEqual(['allow']);
    expect(answers((record) => record.phase === 'recovered' && record.who === 'bad')).toEqual(['token_revoked']);
    for (const replica of replicas) {
      expect(await metric(replica, 'keycard_store_operations_total{op="rolesFor",result="stale"}')).toBeGreaterThan(0);
      expect(await metric(replica, 'keycard_store_operations_total{op="revocationFor",result="error"}')).toBeGreaterThan(0);
    }
    // And a change made after the restart reaches every replica.
    const started = performance.now();
    await writer.revoke(revocation('kill-jti-good'));
    await Promise.all(replicas.map((replica) => msUntil(replica, 'strict', good, 'token_revoked', started, PROPAGATION_BOUND_MS)));
  }, 60_000);
});
