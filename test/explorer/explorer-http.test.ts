// The explorer's HTTP API on a real in-process keycard: decisions made over gRPC with real RS256
// tokens appear newest first, filter, explain themselves and never carry a credential; the try
// endpoint explains a hypothetical request and refuses what a cross-site page could send.
import { networkInterfaces } from 'node:os';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAMS } from '../../src/explorer/live-stream.js';
import { ADMIN_TOKEN, serveExplorer, tokenParts, type ServedExplorer } from './served.js';

interface Listed {
  capacity: number;
  size: number;
  masked: boolean;
  latestSeq: number;
  decisions: { seq: number; id: string; decision: string; reason: string; subject?: string; path?: string; requestPath: string; service?: string }[];
}

async function json<T>(response: Response): Promise<T> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as T;
}

function expectNoToken(text: string, served: ServedExplorer): void {
  expect(served.tokens.length).toBeGreaterThan(0);
  for (const part of tokenParts(served.tokens)) expect(text).not.toContain(part);
  expect(text).not.toMatch(/Bearer /i);
}

describe('the explorer API', () => {
  let served: ServedExplorer;
  beforeAll(async () => {
    served = await serveExplorer({ explorer: 'enabled: true, capacity: 10' });
    // Oldest first: alice reads (allowed), is refused a refund, sam reads, a query string with a secret, anonymous.
    await served.ask({ path: '/orders/1' }, 'alice', { department: 'sales' });
    await served.ask({ method: 'POST', path: '/orders/7/refund' }, 'alice');
    await served.ask({ path: '/orders/2' }, 'sam');
    await served.ask({ path: '/orders/3?access_token=query-secret-value-123', headers: { cookie: 'sid=cookie-secret-value-456' } }, 'sam');
    await served.ask({ path: '/orders/4' });
  });
  afterAll(() => served?.close());

  it('lists the decisions newest first, with what happened and no credential', async () => {
    const response = await fetch(`${served.adminUrl}/explorer/api/decisions`);
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    const body = await json<Listed>(response);
    expect(body.capacity).toBe(10);
    expect(body.decisions.map((record) => [record.subject ?? 'anonymous', record.decision, record.reason, record.requestPath])).toEqual([
      ['anonymous', 'deny', 'authentication_required', '/orders/4'],
      ['sam', 'allow', 'allowed', '/orders/3'],
      ['sam', 'allow', 'allowed', '/orders/2'],
      ['alice', 'deny', 'no_matching_rule', '/orders/7/refund'],
      ['alice', 'allow', 'allowed', '/orders/1'],
    ]);
    expect(body.decisions.map((record) => record.seq)).toEqual([5, 4, 3, 2, 1]);
    expectNoToken(text, served);
    expect(text).not.toContain('query-secret-value-123');
    expect(text).not.toContain('cookie-secret-value-456');
    expect(text).not.toContain('access_token');
  });

  it('filters by service, decision, reason, subject and path, and pages by seq', async () => {
    const list = async (query: string) => (await json<Listed>(await fetch(`${served.adminUrl}/explorer/api/decisions?${query}`))).decisions.map((record) => record.seq);
    expect(await list('decision=deny')).toEqual([5, 2]);
    expect(await list('subject=ALI')).toEqual([2, 1]);
    expect(await list('reason=no_matching')).toEqual([2]);
    expect(await list('path=/orders/2')).toEqual([3]);
    expect(await list('service=orders&decision=allow&subject=sam')).toEqual([4, 3]);
    expect(await list('service=payments')).toEqual([]);
    expect(await list('after=3')).toEqual([5, 4]);
    expect(await list('limit=2')).toEqual([5, 4]);
    const bad = await fetch(`${served.adminUrl}/explorer/api/decisions?decision=maybe`);
    expect(bad.status).toBe(400);
    expect((await json<{ error: string }>(bad)).error).toContain('decision: "maybe" is not one of allow, deny, dry_run_deny');
  });

  it('explains a denied decision as keycard check does: the rule considered and the condition that failed', async () => {
    const { decisions } = await json<Listed>(await fetch(`${served.adminUrl}/explorer/api/decisions?reason=no_matching_rule`));
    const response = await fetch(`${served.adminUrl}/explorer/api/decisions/${decisions[0]!.id}`);
    const text = await response.clone().text();
    const body = await json<{ explanation: string[]; trace: { id: string; outcome: string; failed: string }[] }>(response);
    expect(body.explanation).toEqual([
      'request   POST /orders/7/refund host localhost from 127.0.0.1',
      'service   orders (named by the request)',
      'caller    alice (issuer test-idp)',
      'roles     customer (from the store)',
      'rules     evaluated for this request, in policy order:',
      '  refund       allow  not applied: alice lacks role finance',
      '  support-all  allow  not applied: alice lacks role support',
      'decision  deny 403 no_matching_rule (no policy rule allows this request)',
    ]);
    expect(body.trace).toEqual([
      { id: 'refund', effect: 'allow', outcome: 'condition_failed', failed: 'alice lacks role finance' },
      { id: 'support-all', effect: 'allow', outcome: 'condition_failed', failed: 'alice lacks role support' },
    ]);
    expectNoToken(text, served);
    expect((await fetch(`${served.adminUrl}/explorer/api/decisions/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
  });

  it('shows the verified claims beside the subject', async () => {
    const { decisions } = await json<Listed>(await fetch(`${served.adminUrl}/explorer/api/decisions?path=/orders/1`));
    const body = await json<{ explanation: string[] }>(await fetch(`${served.adminUrl}/explorer/api/decisions/${decisions[0]!.id}`));
    expect(body.explanation).toContain('caller    alice (issuer test-idp); claims department="sales"');
  });

  it('keeps only the newest `capacity` decisions', async () => {
    for (let i = 0; i < 12; i++) await served.ask({ path: `/orders/${100 + i}` }, 'sam');
    const body = await json<Listed>(await fetch(`${served.adminUrl}/explorer/api/decisions`));
    expect(body.size).toBe(10);
    expect(body.decisions).toHaveLength(10);
    expect(body.decisions[0]!.requestPath).toBe('/orders/111');
    expect(body.decisions[9]!.requestPath).toBe('/orders/102');
    expect(body.latestSeq).toBe(17);
  });

  it('says on the live stream when new decisions arrive', async () => {
    const controller = new AbortController();
    const response = await fetch(`${served.adminUrl}/explorer/api/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    const read = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${seen}`);
        seen += decoder.decode(value);
      }
    };
    await read(/event: ready\ndata: \{"latestSeq":\d+\}\n\n/);
    const before = Number(/"latestSeq":(\d+)/.exec(seen)![1]);
    await served.ask({ path: '/orders/9' }, 'sam');
    await read(/event: decisions\ndata: \{"latestSeq":\d+\}\n\n/);
    expect(Number(/event: decisions\ndata: \{"latestSeq":(\d+)\}/.exec(seen)![1])).toBe(before + 1);
    controller.abort();
  });

  it('holds a bounded number of live streams, and no HEAD stream', async () => {
    const controller = new AbortController();
    const events = `${served.adminUrl}/explorer/api/events`;
    try {
      const open = await Promise.all(Array.from({ length: MAX_STREAMS }, () => fetch(events, { signal: controller.signal })));
      expect(open.map((response) => response.status)).toEqual(Array.from({ length: MAX_STREAMS }, () => 200));
      const refused = await fetch(events);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('10');
    } finally {
      controller.abort();
    }
    expect((await fetch(events, { method: 'HEAD' })).status).toBe(405);
  });

  it('serves the page, its script and style under a strict Content-Security-Policy', async () => {
    for (const [path, type] of [
      ['/explorer', 'text/html'],
      ['/explorer/', 'text/html'],
      ['/explorer/app.js', 'text/javascript'],
      ['/explorer/app.css', 'text/css'],
      ['/explorer/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const response = await fetch(`${served.adminUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'; script-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const page = await (await fetch(`${served.adminUrl}/explorer`)).text();
    expect(page).not.toMatch(/<style|style=|https?:\/\//);
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)/);
    // Every resource the page names is keycard's own.
    for (const [, url] of page.matchAll(/(?:src|href)="([^"]+)"/g)) expect(url).toMatch(/^\/explorer\//);
    expect((await fetch(`${served.adminUrl}/explorer/nothing`)).status).toBe(404);
    expect((await fetch(`${served.adminUrl}/explorer/api/decisions`, { method: 'DELETE' })).status).toBe(405);
  });

  it('leaves the probes and metrics as they were', async () => {
    expect((await fetch(`${served.adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${served.adminUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${served.adminUrl}/metrics`)).text()).toContain('keycard_decisions_total');
    expect((await fetch(`${served.adminUrl}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('try a request', () => {
  let served: ServedExplorer;
  beforeAll(async () => {
    served = await serveExplorer();
  });
  afterAll(() => served?.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${served.adminUrl}/explorer/api/try`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('explains a hypothetical request with roles from the store, naming the failing condition', async () => {
    const response = await post({ method: 'post', service: 'orders', path: '/orders/7/refund', subject: 'alice' });
    expect(response.status).toBe(200);
    const body = await json<{ decision: string; reason: string; explanation: string[] }>(response);
    expect(body).toMatchObject({ decision: 'deny', reason: 'no_matching_rule' });
    expect(body.explanation).toContain('roles     customer (from the store)');
    expect(body.explanation).toContain('  refund       allow  not applied: alice lacks role finance');
  });

  it('uses given roles and claims, and routes by host', async () => {
    const body = await json<{ decision: string; rule: string; explanation: string[] }>(
      await post({ method: 'POST', host: 'orders.shop.svc', path: '/orders/7/refund', subject: 'zoe', roles: ['finance'], claims: { team: 'billing' } }),
    );
    expect(body).toMatchObject({ decision: 'allow', rule: 'refund' });
    expect(body.explanation).toContain('service   orders (by host "orders.shop.svc")');
    expect(body.explanation).toContain('caller    zoe (issuer test-idp); claims team="billing"');
    expect(body.explanation).toContain('roles     finance (given)');
    // Nothing was decided for real: the ring stays empty.
    expect((await json<{ size: number }>(await fetch(`${served.adminUrl}/explorer/api/decisions`))).size).toBe(0);
  });

  it('explains an anonymous request', async () => {
    const body = await json<{ reason: string; explanation: string[] }>(await post({ service: 'orders', path: '/orders/1' }));
    expect(body.reason).toBe('authentication_required');
    expect(body.explanation).toContain('caller    anonymous');
  });

  it('answers bad input with a precise 400', async () => {
    const error = async (response: Response) => [response.status, (await json<{ error: string }>(response)).error];
    expect(await error(await post({ path: '/x', roles: ['a'] }))).toEqual([400, 'roles: roles describes a caller: add subject']);
    expect(await error(await post({ path: '/x', subject: 'a', issuer: 'nope' }))).toEqual([400, 'issuer "nope" is not an issuer of the settings file (test-idp)']);
    expect(await error(await post({ path: '/x', token: 'abc' }))).toEqual([400, 'body: Unrecognized key: "token"']);
    expect(await error(await post('{not json'))).toEqual([400, 'the request body is not JSON']);
    expect(await error(await post({ method: 'G E T', path: '/x' }))).toEqual([400, 'method: an HTTP method such as GET']);
  });

  it('refuses what a cross-site page could send, and bodies that are too large', async () => {
    expect((await post({ path: '/x' }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post({ path: '/x' }, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post({ path: '/x' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ path: '/x' }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const sameOrigin = await post({ path: '/orders/1', service: 'orders' }, { origin: served.adminUrl, 'sec-fetch-site': 'same-origin' });
    expect(sameOrigin.status).toBe(200);
    expect((await post({ path: `/${'a'.repeat(20_000)}` })).status).toBe(413);
    expect((await fetch(`${served.adminUrl}/explorer/api/try`)).status).toBe(405);
  });
});

describe('try a request with headers and a decision time', () => {
  const POLICY = `
service: orders
authentication: { issuers: [test-idp] }
rules:
  - id: blue-office-hours
    effect: allow
    match: { paths: ["/orders/**"] }
    when:
      - { header: { name: x-tenant, equals: blue } }
      - { timeWindow: { days: [mon, tue, wed, thu, fri], hours: "08:00-18:00", timeZone: UTC } }
`;
  let served: ServedExplorer;
  beforeAll(async () => {
    served = await serveExplorer({ policy: POLICY });
  });
  afterAll(() => served?.close());

  const post = (body: unknown) =>
    fetch(`${served.adminUrl}/explorer/api/try`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ask = { service: 'orders', path: '/orders/7', subject: 'alice' };

  it('decides with the headers given, at the time given', async () => {
    const monday = '2026-11-23T10:00:00Z';
    const sunday = '2026-11-22T10:00:00Z';
    expect(await json(await post({ ...ask, headers: { 'X-Tenant': 'blue' }, now: monday }))).toMatchObject({ decision: 'allow', rule: 'blue-office-hours' });
    const outOfHours = await json<{ decision: string; explanation: string[] }>(await post({ ...ask, headers: { 'x-tenant': 'blue' }, now: sunday }));
    expect(outOfHours.decision).toBe('deny');
    expect(outOfHours.explanation.join('\n')).toMatch(/blue-office-hours.*not applied/);
    expect(await json(await post({ ...ask, headers: { 'x-tenant': 'red' }, now: monday }))).toMatchObject({ decision: 'deny' });
  });

  it('refuses credentials in headers and a time that is not an instant, precisely', async () => {
    const error = async (response: Response) => [response.status, (await json<{ error: string }>(response)).error];
    expect(await error(await post({ ...ask, headers: { Authorization: 'Bearer abc' } }))).toEqual([400, 'headers.Authorization: the caller is given by subject: no credential is sent to the explorer']);
    expect(await error(await post({ ...ask, headers: { cookie: 'sid=1' } }))).toEqual([400, 'headers.cookie: the caller is given by subject: no credential is sent to the explorer']);
    expect(await error(await post({ ...ask, now: 'tomorrow' }))).toEqual([400, 'now: an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z']);
  });
});

describe('who may use the explorer', () => {
  it('is not there unless enabled: 404, and the try endpoint too', async () => {
    const served = await serveExplorer({ explorer: 'enabled: false' });
    try {
      expect((await fetch(`${served.adminUrl}/explorer`)).status).toBe(404);
      expect((await fetch(`${served.adminUrl}/explorer/api/decisions`)).status).toBe(404);
      expect((await fetch(`${served.adminUrl}/explorer/api/try`, { method: 'POST', body: '{}' })).status).toBe(405);
      expect(served.keycard.explorer).toBeUndefined();
    } finally {
      await served.close();
    }
  });

  it('refuses a loopback request forwarded by a proxy, or naming another host (DNS rebinding)', async () => {
    const served = await serveExplorer();
    try {
      const status = (headers: Record<string, string>) => rawGet(served.adminUrl, '/explorer/api/decisions', headers);
      expect(await status({})).toBe(200);
      expect(await status({ 'x-forwarded-for': '203.0.113.9' })).toBe(403);
      expect(await status({ host: 'attacker.example:9090' })).toBe(403);
      expect(await status({ host: 'localhost:9090' })).toBe(200);
    } finally {
      await served.close();
    }
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

  it.skipIf(external === undefined)('answers a non-loopback client only with the admin token, and keeps the probes open to it', async () => {
    const served = await serveExplorer({ explorer: 'enabled: true, adminTokenFile: admin-token', adminListen: `${external}:0` });
    try {
      await served.ask({ path: '/orders/1' }, 'alice');
      const url = `${served.adminUrl}/explorer/api/decisions`;
      const without = await fetch(url);
      expect(without.status).toBe(401);
      expect(without.headers.get('www-authenticate')).toBe('Bearer realm="keycard explorer"');
      const withoutText = await without.text();
      expect(withoutText).not.toContain('alice');
      expect((await fetch(`${served.adminUrl}/explorer`)).status).toBe(401);
      const wrong = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const right = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(right.status).toBe(200);
      expect((await json<Listed>(right)).decisions[0]!.subject).toBe('alice');
      expect((await fetch(`${served.adminUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${served.adminUrl}/metrics`)).status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it.skipIf(external === undefined)('answers a non-loopback client 403 when no admin token is configured', async () => {
    const served = await serveExplorer({ adminListen: `${external}:0` });
    try {
      const response = await fetch(`${served.adminUrl}/explorer/api/decisions`);
      expect(response.status).toBe(403);
      expect((await json<{ error: string }>(response)).error).toBe('the explorer answers loopback clients only, and no explorer.adminTokenFile or adminTokenEnv is configured');
    } finally {
      await served.close();
    }
  });

  it('does not start when the admin token file is missing', async () => {
    await expect(serveExplorer({ explorer: 'enabled: true, adminTokenFile: missing-token' })).rejects.toThrow(/\[file_unreadable\] explorer\.adminTokenFile: the explorer admin token cannot be read from .*missing-token: ENOENT/);
  });
});

describe('masked subjects', () => {
  let served: ServedExplorer;
  beforeAll(async () => {
    served = await serveExplorer({ explorer: 'enabled: true, maskSubjects: true' });
    await served.ask({ method: 'POST', path: '/orders/7/refund' }, 'alice', { email: 'alice@example.com' });
    await served.ask({ path: '/orders/1' }, 'alice');
    await served.ask({ path: '/orders/2' }, 'sam');
  });
  afterAll(() => served?.close());

  it('shows a stable short hash instead of the subject, everywhere, and filters by the subject', async () => {
    const response = await fetch(`${served.adminUrl}/explorer/api/decisions`);
    const text = await response.clone().text();
    const body = await json<Listed>(response);
    expect(body.masked).toBe(true);
    const [sam, alice1, alice2] = body.decisions.map((record) => record.subject);
    expect(alice1).toMatch(/^masked:[0-9a-f]{12}$/);
    expect(alice1).toBe(alice2);
    expect(sam).not.toBe(alice1);
    expect(text).not.toContain('alice');
    expect(text).not.toContain('example.com');
    const filtered = await json<Listed>(await fetch(`${served.adminUrl}/explorer/api/decisions?subject=alice`));
    expect(filtered.decisions).toHaveLength(2);
    const explained = await (await fetch(`${served.adminUrl}/explorer/api/decisions/${body.decisions[2]!.id}`)).text();
    expect(explained).toContain(`${alice1} lacks role finance`);
    expect(explained).not.toContain('alice');
  });
});

/** A GET with exactly these headers (fetch would not let the test set Host). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, headers, setHost: headers.host === undefined }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}
