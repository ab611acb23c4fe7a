// Every metric that the Grafana dashboard and the alerting rules (deploy/observability) read exists
// on a running keycard's /metrics, and every label they match on is a label of that metric. The
// keycard runs as in production with everything switched on: `--workers 2` (the primary's
// metrics), the Redis store, a shadow policy set, a dry-run service, a JWKS load, and Checks
// allowed, denied and dry-run denied, so that the metric families carry samples with their labels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { RedisServer } from '../helpers/redis-server.js';
import { eventually, uniquePrefix } from '../helpers/redis-store.js';
import { ORDERS_POLICY, SEED, Workspace } from '../helpers/workspace.js';
import { allRules, dashboardQueries, readDashboard, readRules } from './observability-files.js';
import { selectors, type Selector } from './observability-promql.js';

/** Series Prometheus makes itself, for every target. */
const PROMETHEUS_SERIES = ['up'];
/** Labels Prometheus adds to every series of a target (the scrape configuration's target labels). */
const TARGET_LABELS = ['namespace', 'job', 'instance', 'pod'];

/** The candidate: reads need the support role, so alice's read is a disagreement. */
const CANDIDATE = ORDERS_POLICY.replace('role: [customer, support]', 'role: [support]');
const CATALOG_DRY_RUN = `
service: catalog
mode: dry-run
rules:
  - { id: browse, effect: allow, match: { methods: [GET], paths: ["/items"] }, when: [{ role: customer }] }
`;

interface Exposition {
  /** Family name → its type (counter, gauge, histogram, summary, untyped). */
  readonly families: ReadonlyMap<string, string>;
  /** Sample name (with _bucket, _sum, _count) → every label name seen on it. */
  readonly samples: ReadonlyMap<string, ReadonlySet<string>>;
}

function parseExposition(text: string): Exposition {
  const families = new Map<string, string>();
  const samples = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (\w+)$/.exec(line);
    if (type) families.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels = samples.get(sample[1]!) ?? new Set<string>();
    for (const label of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(label[1]!);
    samples.set(sample[1]!, labels);
  }
  return { families, samples };
}

/** The family a name belongs to: itself, or a histogram's (summary's) _bucket, _sum, _count. */
function familyOf(name: string, exposition: Exposition): string | undefined {
  if (exposition.families.has(name)) return name;
  const suffix = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!suffix) return undefined;
  const type = exposition.families.get(suffix[1]!);
  return type === 'histogram' || (type === 'summary' && suffix[2] !== 'bucket') ? suffix[1] : undefined;
}

let redis: RedisServer;
let workspace: Workspace;
let keycard: KeycardProcess;
let client: AuthorizationClient;
let key: TestKey;
let exposition: Exposition;
let metricsText: string;

async function scrape(): Promise<string> {
  const response = await fetch(`${keycard.adminUrl}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

beforeAll(async () => {
  redis = await RedisServer.start();
  key = await makeKey('ES256');
  workspace = new Workspace().writeAll({
    'keycard.yaml': `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - { name: test-idp, issuer: "https://idp.test.example/", audiences: [shop], jwksFile: jwks.json, algorithms: [ES256] }
policies: { dir: policies }
shadow: { dir: policies-next }
store:
  type: redis
  url: ${redis.url()}
  keyPrefix: "${uniquePrefix()}"
  seedFile: seed.yaml
  cache: { maxEntries: 1000, ttl: 30s }
audit: { output: "off" }
log: { level: warn }
`,
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
    'policies/catalog.yaml': CATALOG_DRY_RUN,
    'policies-next/orders.yaml': CANDIDATE,
    'policies-next/catalog.yaml': CATALOG_DRY_RUN,
  });
  keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
  await eventually(async () => (await fetch(`${keycard.adminUrl}/readyz`)).status === 200, 15_000, 'keycard ready');
  client = createCheckClient(keycard.grpcAddress);
  const alice = `Bearer ${await signToken(key, { sub: 'alice' })}`;
  const bob = `Bearer ${await signToken(key, { sub: 'bob' })}`;
  const answers: (number | undefined)[] = [];
  for (const [service, path, authorization] of [
    ['orders', '/orders/1', alice],
    ['orders', '/orders/1', alice], // the same token again: a token cache hit, a store cache hit
    ['orders', '/orders/1', bob], // no role: forbidden
    ['orders', '/orders/1', undefined], // no credential
    ['catalog', '/items', undefined], // dry-run: allowed, would have been denied
  ] as const) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    answers.push((await check(client, buildCheckRequest({ service, path, headers }))).status?.code);
  }
  expect(answers.map((code) => (code === 0 ? 'allow' : 'deny'))).toEqual(['allow', 'allow', 'deny', 'deny', 'allow']);
  // Shadow evaluations run after the answer: wait until alice's disagreement is counted.
  await eventually(async () => (metricsText = await scrape()).includes('keycard_shadow_disagreements_total{'), 10_000, 'the shadow disagreement counted');
  exposition = parseExposition(metricsText);
}, 60_000);

afterAll(async () => {
  client?.close();
  await keycard?.stop();
  await redis?.remove();
  workspace?.remove();
});

/** Where each expression comes from, and what it reads. */
function everySelector(): { where: string; selector: Selector }[] {
  const rules = allRules(readRules()).map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr }));
  return [...rules, ...dashboardQueries(readDashboard())].flatMap(({ where, expr }) => selectors(expr).map((selector) => ({ where, selector })));
}

const recorded = new Set(allRules(readRules()).flatMap((rule) => (rule.record ? [rule.record] : [])));

describe('the dashboard and the alerting rules against a running keycard', () => {
  it('read only metrics that keycard exports (or that the rules record, or `up`)', () => {
    const read = everySelector().flatMap(({ where, selector }) => (selector.name === undefined ? [] : [{ where, name: selector.name }]));
    expect(new Set(read.map(({ name }) => name)).size).toBeGreaterThan(25);
    const missing = read.filter(({ name }) => !recorded.has(name) && !PROMETHEUS_SERIES.includes(name) && familyOf(name, exposition) === undefined);
    expect(missing.map(({ where, name }) => `${where}: ${name}`)).toEqual([]);
  });

  it('match only on labels those metrics have', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const { where, selector } of everySelector()) {
      if (selector.name === undefined || recorded.has(selector.name) || PROMETHEUS_SERIES.includes(selector.name)) continue;
      const labels = exposition.samples.get(selector.name);
      // A family without samples here (introspection, worker restarts...) shows no labels to compare.
      if (!labels) continue;
      checked++;
      for (const label of selector.labels) {
        if (!labels.has(label) && !TARGET_LABELS.includes(label)) wrong.push(`${where}: ${selector.name} has no label ${label} (it has ${[...labels].join(', ')})`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  it('has samples for the families the alerts read, so the label check above covered them', () => {
    for (const name of ['keycard_decisions_total', 'keycard_store_operations_total', 'keycard_store_cache_misses_total', 'keycard_jwks_fetches_total', 'keycard_policy_reloads_total', 'keycard_check_duration_seconds_bucket', 'keycard_ready']) {
      expect(exposition.samples.has(name), name).toBe(true);
    }
  });

  it('reports keycard_ready 1 from the primary once every worker is ready', () => {
    expect(metricsText).toMatch(/^keycard_ready 1$/m);
    expect(metricsText).toMatch(/^keycard_workers\{state="listening"\} 2$/m);
  });
});
