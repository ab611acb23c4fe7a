// API keys and sessions end to end: a real keycard process on a private redis-server, a policy
// accepting `apiKey` (header and query) and `session`, and the built CLI creating and revoking
// keys and sessions. A revocation must be enforced by the running server at once (far below the
// 30 s cache TTL: only the change feed can explain it), sessions must end at their idle and
// absolute timeouts, and keycard must refuse to start without its pepper.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { launchKeycard, runCli, startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey } from '../helpers/keys.js';
import { RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis-store.js';
import { Workspace } from '../helpers/workspace.js';

/** How long a change may take to reach the running server: far below the cache TTL (30s). */
const PROPAGATION_MS = 2_000;

const POLICY = `
service: orders
hosts: [orders.shop.svc]
authentication:
  credentials:
    - apiKey: { header: x-api-key }
    - apiKey: { query: api_key }
    - session: { cookie: keycard_session }
rules:
  - id: read
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ anyOf: [{ scope: orders:read }, { role: customer }] }]
  - id: write
    effect: allow
    match: { methods: [POST], paths: ["/orders"] }
    when: [{ scope: orders:write }]
  - id: account
    effect: allow
    match: { methods: [GET], paths: ["/account"] }
    when: [{ mfa: true }]
`;

const settings = (redisUrl: string, keyPrefix: string, pepper = 'pepperFile: pepper.txt') => `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - { name: test-idp, issuer: "https://idp.test.example/", audiences: [shop], jwksFile: jwks.json, algorithms: [ES256] }
apiKeys: { ${pepper} }
sessions: { idleTimeout: 2s, absoluteTimeout: 5s }
policies: { dir: policies, watch: false }
store:
  type: redis
  url: ${redisUrl}
  keyPrefix: "${keyPrefix}"
  seedFile: seed.yaml
  cache: { maxEntries: 1000, ttl: 30s }
audit: { output: audit.log }
log: { level: warn }
`;

let redis: RedisServer;
let workspace: Workspace;
let config: string;
let server: KeycardProcess;
let client: AuthorizationClient;

beforeAll(async () => {
  redis = await RedisServer.start();
  workspace = new Workspace().writeAll({
    'jwks.json': jwks(await makeKey('ES256')),
    'pepper.txt': 'e2e-pepper-with-enough-bytes-0123456789\n',
    'seed.yaml': 'roleBindings:\n  - { subject: alice, roles: [customer] }\n',
    'policies/orders.yaml': POLICY,
  });
  config = workspace.write('keycard.yaml', settings(redis.url(), uniquePrefix()));
  server = await startKeycard(config);
  client = createCheckClient(server.grpcAddress);
}, 30_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  await redis?.remove();
  workspace?.remove();
});

async function keycard(...args: string[]): Promise<string> {
  const result = await runCli([...args, '--config', config, '--actor', 'e2e']);
  if (result.code !== 0) throw new Error(`keycard ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

async function newKey(...args: string[]): Promise<{ id: string; key: string }> {
  return JSON.parse(await keycard('apikeys', 'create', ...args, '--format', 'json')) as { id: string; key: string };
}

async function newSession(...args: string[]): Promise<{ id: string; cookie_value: string }> {
  return JSON.parse(await keycard('sessions', 'create', ...args, '--format', 'json')) as { id: string; cookie_value: string };
}

const READ: HttpRequestSpec = { method: 'GET', host: 'orders.shop.svc', path: '/orders/42', service: 'orders' };
const WRITE: HttpRequestSpec = { method: 'POST', host: 'orders.shop.svc', path: '/orders', service: 'orders' };
const ACCOUNT: HttpRequestSpec = { method: 'GET', host: 'orders.shop.svc', path: '/account', service: 'orders' };

function ask(spec: HttpRequestSpec, headers: Record<string, string> = {}): Promise<CheckResponse__Output> {
  return check(client, buildCheckRequest({ ...spec, headers: { ...spec.headers, ...headers } }));
}

const withKey = (key: string) => ({ 'x-api-key': key });
const withCookie = (value: string) => ({ cookie: `keycard_session=${value}` });

const HTTP_STATUS: Record<string, string> = { Unauthorized: '401', Forbidden: '403', ServiceUnavailable: '503', BadRequest: '400' };

/** `allowed`, or the deny's HTTP status and reason. */
function outcome(response: CheckResponse__Output): string {
  if (response.status?.code === 0) return 'allowed';
  const body = response.denied_response?.body;
  const status = HTTP_STATUS[String(response.denied_response?.status?.code)] ?? String(response.denied_response?.status?.code);
  return `${status} ${body ? (JSON.parse(body) as { reason: string }).reason : '?'}`;
}

/** Asks until the outcome changes from `from` (or PROPAGATION_MS passes); the last outcome and how long it took. */
async function askUntilNot(from: string, spec: HttpRequestSpec, headers: Record<string, string>): Promise<{ outcome: string; ms: number }> {
  const started = Date.now();
  for (;;) {
    const now = outcome(await ask(spec, headers));
    if (now !== from || Date.now() - started > PROPAGATION_MS) return { outcome: now, ms: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('API keys against a running keycard', () => {
  it('allows a valid key in the header or the query, within its scopes', async () => {
    const { key } = await newKey('--subject', 'svc:reporting', '--scope', 'orders:read');
    expect(outcome(await ask(READ, withKey(key)))).toBe('allowed');
    expect(outcome(await ask({ ...READ, path: `/orders/42?api_key=${key}` }))).toBe('allowed');
    expect(outcome(await ask(WRITE, withKey(key)))).toBe('403 insufficient_scope');
    const writer = await newKey('--subject', 'svc:writer', '--scope', 'orders:write');
    expect(outcome(await ask(WRITE, withKey(writer.key)))).toBe('allowed');
    // The same key in both places is two credentials.
    expect(outcome(await ask({ ...READ, path: `/orders/42?api_key=${key}` }, withKey(key)))).toBe('401 ambiguous_credentials');
  });

  it('answers 401 with the precise reason for a wrong, unknown, malformed or expired key', async () => {
    const { id, key } = await newKey('--subject', 'svc:x', '--scope', 'orders:read');
    const otherSecret = (await newKey('--subject', 'svc:y')).key.split('_').slice(2).join('_');
    expect(outcome(await ask(READ, withKey(`kc_${id}_${otherSecret}`)))).toBe('401 invalid_api_key');
    expect(outcome(await ask(READ, withKey(`kc_ZZZZZZZZZZZZ_${otherSecret}`)))).toBe('401 invalid_api_key');
    expect(outcome(await ask(READ, withKey('not-a-key')))).toBe('401 invalid_api_key');
    expect(outcome(await ask(READ, withKey(key.slice(0, -3))))).toBe('401 invalid_api_key');
    expect(outcome(await ask(READ))).toBe('401 authentication_required');

    const short = await newKey('--subject', 'svc:short', '--scope', 'orders:read', '--expires', '1s');
    await sleep(1100);
    expect(outcome(await ask(READ, withKey(short.key)))).toBe('401 api_key_expired');
  });

  it('refuses a key revoked with `keycard apikeys revoke` at once, though the server had it cached', async () => {
    const { id, key } = await newKey('--subject', 'svc:revoked', '--scope', 'orders:read');
    expect(outcome(await ask(READ, withKey(key)))).toBe('allowed');
    expect(outcome(await ask(READ, withKey(key)))).toBe('allowed');
    expect(await keycard('apikeys', 'revoke', id)).toBe(`revoked API key ${id} of svc:revoked\n`);
    const { outcome: after, ms } = await askUntilNot('allowed', READ, withKey(key));
    expect(after).toBe('401 invalid_api_key');
    expect(ms).toBeLessThan(PROPAGATION_MS);
  });

  it('`keycard revoke token <key id>` denies the key too (the id is its jti)', async () => {
    const { id, key } = await newKey('--subject', 'svc:jti', '--scope', 'orders:read');
    expect(outcome(await ask(READ, withKey(key)))).toBe('allowed');
    await keycard('revoke', 'token', id);
    expect((await askUntilNot('allowed', READ, withKey(key))).outcome).toBe('401 token_revoked');
  });

  it('lists keys without their hash or secret', async () => {
    const { id, key } = await newKey('--subject', 'svc:listed', '--name', 'nightly export');
    const listed = await keycard('apikeys', 'list', '--subject', 'svc:listed');
    expect(listed).toContain(id);
    expect(listed).toContain('nightly export');
    expect(listed).not.toContain(key.slice(16));
  });
});

describe('sessions against a running keycard', () => {
  it('allows a live session as its subject, with the roles from the store and its amr', async () => {
    const { cookie_value: value } = await newSession('--subject', 'alice', '--amr', 'pwd,otp');
    expect(outcome(await ask(READ, withCookie(value)))).toBe('allowed');
    expect(outcome(await ask(ACCOUNT, withCookie(value)))).toBe('allowed');
    const { cookie_value: plain } = await newSession('--subject', 'bob', '--amr', 'pwd');
    expect(outcome(await ask(READ, withCookie(plain)))).toBe('403 no_matching_rule');
    expect(outcome(await ask(ACCOUNT, withCookie(plain)))).toBe('401 insufficient_user_authentication');
    expect(outcome(await ask(READ, withCookie('x'.repeat(43))))).toBe('401 invalid_session');
  });

  it('ends a session after idleTimeout (2s) without use', async () => {
    const { cookie_value: value } = await newSession('--subject', 'alice');
    expect(outcome(await ask(READ, withCookie(value)))).toBe('allowed');
    await sleep(2300);
    expect(outcome(await ask(READ, withCookie(value)))).toBe('401 session_expired');
  });

  it('ends a session at absoluteTimeout (5s) though it is in use all along', async () => {
    const { cookie_value: value } = await newSession('--subject', 'alice');
    const started = Date.now();
    const outcomes: string[] = [];
    while (Date.now() - started < 6000) {
      outcomes.push(outcome(await ask(READ, withCookie(value))));
      await sleep(500);
    }
    // Used every half second: never idle for 2s, so it was allowed until the absolute end, then never again.
    const firstExpired = outcomes.indexOf('401 session_expired');
    expect(firstExpired).toBeGreaterThan(4);
    expect(outcomes.slice(0, firstExpired).every((seen) => seen === 'allowed')).toBe(true);
    expect(outcomes.slice(firstExpired).every((seen) => seen === '401 session_expired')).toBe(true);
  }, 15_000);

  it('logs a session out with `keycard sessions revoke ID` at once', async () => {
    const { id, cookie_value: value } = await newSession('--subject', 'alice');
    expect(outcome(await ask(READ, withCookie(value)))).toBe('allowed');
    expect(await keycard('sessions', 'revoke', id)).toBe(`ended session ${id} of alice\n`);
    const { outcome: after, ms } = await askUntilNot('allowed', READ, withCookie(value));
    expect(after).toBe('401 invalid_session');
    expect(ms).toBeLessThan(PROPAGATION_MS);
  });

  it('never writes a key or a cookie value to the audit log or the server logs', async () => {
    const { key } = await newKey('--subject', 'svc:audit', '--scope', 'orders:read');
    const { cookie_value: value } = await newSession('--subject', 'alice');
    await ask(READ, withKey(key));
    await ask(READ, withCookie(value));
    await ask(READ, withKey(`${key.slice(0, -1)}A`));
    await sleep(1200); // the audit log is written out in the background
    const audit = readFileSync(workspace.path('audit.log'), 'utf8');
    expect(audit).toContain('"subject":"svc:audit"');
    for (const secret of [key.slice(16), value]) {
      expect(audit).not.toContain(secret);
      expect(server.stderr()).not.toContain(secret);
    }
  });
});

describe('keycard startup', () => {
  it('refuses to start without its API key pepper, naming the setting', async () => {
    const files = {
      'keycard.yaml': settings(redis.url(), uniquePrefix(), 'pepperEnv: KEYCARD_E2E_PEPPER_UNSET'),
      'jwks.json': jwks(await makeKey('ES256')),
      'seed.yaml': 'roleBindings: []\n',
      'policies/orders.yaml': POLICY,
    };
    // It exits (1), having closed its Redis connections: a keycard that cannot start must not hang.
    await expect(launchKeycard(files)).rejects.toThrow(/exited with 1 before listening:[\s\S]*apiKeys\.pepperEnv: the environment variable KEYCARD_E2E_PEPPER_UNSET \(the API key pepper\) is not set/);
  });

  it('refuses to start as a cluster too: the primary checks the secrets before forking, and exits 1', async () => {
    const workspace = new Workspace().writeAll({
      'keycard.yaml': settings(redis.url(), uniquePrefix(), 'pepperEnv: KEYCARD_E2E_PEPPER_UNSET'),
      'jwks.json': jwks(await makeKey('ES256')),
      'seed.yaml': 'roleBindings: []\n',
      'policies/orders.yaml': POLICY,
    });
    try {
      const run = await runCli(['serve', '--config', workspace.path('keycard.yaml'), '--grpc-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--workers', '2']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('apiKeys.pepperEnv: the environment variable KEYCARD_E2E_PEPPER_UNSET (the API key pepper) is not set');
      expect(run.stdout).not.toContain('keycard listening');
    } finally {
      workspace.remove();
    }
  });
});
