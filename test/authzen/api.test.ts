// The AuthZEN endpoints of a running keycard over real HTTP/1.1 (fetch) and h2c (node:http2):
// the spec's request and response shapes, the evaluations semantics, search pagination, the
// metadata document, each 400, caller authentication and the caller-scope rule.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthzenKeycard, type AuthzenFixture } from './fixture.js';

let fx: AuthzenFixture;
let svcToken: string;

beforeAll(async () => {
  fx = await startAuthzenKeycard('  search: { defaultPageSize: 2 }');
  svcToken = await fx.token('svc-todos');
});
afterAll(async () => fx?.stop());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${fx.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${svcToken}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
}

const todo = (id: string) => ({ type: 'todo', id });
const user = (id: string) => ({ type: 'user', id });

describe('POST /access/v1/evaluation', () => {
  it('answers the spec example shape with decision and context (reason, rule), echoing X-Request-ID', async () => {
    const answer = await post(
      '/access/v1/evaluation',
      { subject: user('beth'), resource: todo('1'), action: { name: 'can_update_todo' }, context: { time: '1985-10-26T01:22-07:00' } },
      { 'x-request-id': 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716' },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.headers.get('x-request-id')).toBe('bfe9eb29-ab87-4ca3-be83-a1d5d8305716');
    expect(answer.body).toMatchObject({ decision: true, context: { reason: 'allowed', rule: 'update-own' } });
  });

  it('denies with the reason and a user-safe message', async () => {
    const answer = await post('/access/v1/evaluation', { subject: user('beth'), resource: todo('2'), action: { name: 'can_update_todo' } });
    expect(answer.status).toBe(200);
    expect(answer.body.decision).toBe(false);
    const context = answer.body.context as Record<string, unknown>;
    expect(typeof context.reason).toBe('string');
    expect(context.reason).not.toBe('allowed');
    expect(Object.keys(context.reason_user as object)[0]).toMatch(/^en-\d{3}$/);
  });

  it('gives step-up hints in the spec example form', async () => {
    const answer = await post('/access/v1/evaluation', { subject: user('jerry'), resource: todo('1'), action: { name: 'can_export_todos' } });
    expect(answer.body.decision).toBe(false);
    // The spec's example: {"decision": false, "context": {"acr_values": "urn:com:example:loa:3", ...}}.
    expect(answer.body.context).toMatchObject({ reason: 'insufficient_user_authentication', acr_values: 'urn:com:example:loa:3' });
  });

  it.each([
    ['{"subject": ', /^the body is not valid JSON/],
    [{ subject: user('beth'), resource: todo('1') }, /^action is required$/],
    [{ subject: { type: 'user' }, resource: todo('1'), action: { name: 'x' } }, /^subject\.id is required$/],
    [{ subject: user('beth'), resource: { type: 'todo', id: 1 }, action: { name: 'x' } }, /^resource\.id must be a string, not number 1$/],
    [[1], /^the body must be a JSON object, not an array$/],
  ])('400 for %j', async (body, message) => {
    const answer = await post('/access/v1/evaluation', body, { 'x-request-id': 'bad-1' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('x-request-id')).toBe('bad-1');
    expect(answer.body).toMatchObject({ error: 'bad_request' });
    expect(answer.body.message).toMatch(message);
  });

  it('refuses a non-JSON content type (415), a body past the limit (413) and other methods (405)', async () => {
    const form = await fetch(`${fx.base}/access/v1/evaluation`, { method: 'POST', headers: { authorization: `Bearer ${svcToken}`, 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
    const huge = await post('/access/v1/evaluation', { subject: user('a'), resource: todo('1'), action: { name: 'x' }, context: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    const get = await fetch(`${fx.base}/access/v1/evaluation`, { headers: { authorization: `Bearer ${svcToken}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${fx.base}/access/v2/evaluation`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses a body streamed without Content-Length once it passes the limit (413), over HTTP/1.1 and h2c', async () => {
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${svcToken}` };
    /** Writes 2 MiB of chunks until the answer comes (the server stops reading at its 1 MiB limit). */
    const stream = async (writable: { write(chunk: Buffer): boolean; end(): void; destroyed: boolean }, answered: () => boolean) => {
      for (let sent = 0; sent < 2 * 1024 * 1024 && !answered() && !writable.destroyed; sent += chunk.length) {
        if (!writable.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (!writable.destroyed) writable.end();
    };
    const url = new URL(fx.base);
    const http1 = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      let answered = false;
      const request = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/access/v1/evaluation', headers }, (response) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8').on('data', (part: string) => (text += part));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      request.on('error', reject);
      void stream(request, () => answered);
    });
    const session = connect(fx.base);
    try {
      const h2c = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        let status = 0;
        const request = session.request({ ':method': 'POST', ':path': '/access/v1/evaluation', ...headers });
        let text = '';
        request.on('response', (answer) => (status = Number(answer[':status'])));
        request.setEncoding('utf8').on('data', (part: string) => (text += part));
        request.on('end', () => resolve({ status, body: JSON.parse(text) as Record<string, unknown> }));
        request.on('error', reject);
        void stream(request, () => status !== 0);
      });
      for (const answer of [http1, h2c]) expect(answer).toEqual({ status: 413, body: { error: 'payload_too_large', message: 'the body exceeds 1048576 bytes' } });
    } finally {
      session.close();
    }
  });
});

describe('caller authentication and scope', () => {
  const question = { subject: user('beth'), resource: todo('1'), action: { name: 'can_read_todos' } };

  it('401 with WWW-Authenticate without a credential, or with a bad one', async () => {
    for (const authorization of [undefined, 'Bearer not-a-jwt']) {
      const response = await fetch(`${fx.base}/access/v1/evaluation`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
        body: JSON.stringify(question),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    }
  });

  it('403 when the target service does not let this caller ask; a role can grant it', async () => {
    const other = await post('/access/v1/evaluation', question, { authorization: `Bearer ${await fx.token('svc-billing')}` });
    expect(other.status).toBe(403);
    expect(other.body.message).toBe('this caller may not ask about resources of type "todo"');
    // svc-todos may not ask about billing's invoices, and an unknown type gets the same answer.
    for (const type of ['invoice', 'no-such-type']) {
      const answer = await post('/access/v1/evaluation', { ...question, resource: { type, id: '1' } });
      expect(answer.status).toBe(403);
      expect(answer.body.message).toBe(`this caller may not ask about resources of type "${type}"`);
    }
    const byRole = await post('/access/v1/evaluation', question, { authorization: `Bearer ${await fx.token('svc-pdp')}` });
    expect(byRole.status).toBe(200);
    expect(byRole.body.decision).toBe(true);
  });

  it('in a batch, a forbidden item is a per-item deny with the spec error form; the others are answered', async () => {
    const answer = await post('/access/v1/evaluations', {
      subject: user('beth'),
      action: { name: 'can_read_todos' },
      evaluations: [{ resource: todo('1') }, { resource: { type: 'invoice', id: '9' }, action: { name: 'can_pay' } }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.evaluations).toEqual([
      expect.objectContaining({ decision: true }),
      { decision: false, context: { error: { status: 403, message: 'this caller may not ask about resources of type "invoice"' } } },
    ]);
  });
});

describe('POST /access/v1/evaluations', () => {
  const batch = (semantic?: string) => ({
    subject: user('beth'),
    action: { name: 'can_update_todo' },
    ...(semantic && { options: { evaluations_semantic: semantic } }),
    evaluations: [{ resource: todo('1') }, { resource: todo('2') }, { resource: todo('3') }],
  });

  it('execute_all (the default): one decision per item, in order', async () => {
    for (const body of [batch(), batch('execute_all')]) {
      const answer = await post('/access/v1/evaluations', body);
      expect((answer.body.evaluations as { decision: boolean }[]).map((item) => item.decision)).toEqual([true, false, true]);
    }
  });

  it('deny_on_first_deny stops at the first deny, marked as in the spec example', async () => {
    const answer = await post('/access/v1/evaluations', batch('deny_on_first_deny'));
    const items = answer.body.evaluations as { decision: boolean; context: Record<string, unknown> }[];
    expect(items.map((item) => item.decision)).toEqual([true, false]);
    expect(items[1]!.context).toMatchObject({ code: '200', reason: 'deny_on_first_deny' });
  });

  it('permit_on_first_permit stops at the first permit', async () => {
    const answer = await post('/access/v1/evaluations', { ...batch('permit_on_first_permit'), subject: user('morty') });
    expect((answer.body.evaluations as { decision: boolean }[]).map((item) => item.decision)).toEqual([false, true]);
  });

  it('without evaluations answers as a single evaluation', async () => {
    const answer = await post('/access/v1/evaluations', { subject: user('beth'), resource: todo('1'), action: { name: 'can_read_todos' } });
    expect(answer.body).toMatchObject({ decision: true });
  });

  it('refuses a batch past maxBatch and a bad semantic with 400', async () => {
    const big = await post('/access/v1/evaluations', { ...batch(), evaluations: Array.from({ length: 21 }, () => ({ resource: todo('1') })) });
    expect(big.status).toBe(400);
    expect(big.body.message).toBe('evaluations has 21 items; at most 20 are accepted per request');
    const semantic = await post('/access/v1/evaluations', batch('all'));
    expect(semantic.status).toBe(400);
  });
});

describe('search', () => {
  async function allPages(path: string, body: Record<string, unknown>) {
    const results: unknown[] = [];
    let token = '';
    let pages = 0;
    do {
      const answer = await post(path, { ...body, ...(token && { page: { token } }) });
      expect(answer.status).toBe(200);
      const page = answer.body.page as { next_token: string };
      results.push(...(answer.body.results as unknown[]));
      token = page.next_token;
      pages++;
    } while (token !== '' && pages < 20);
    return { results, pages };
  }

  it('subject search: who may update todo 4 (owned by a group), across pages', async () => {
    const { results } = await allPages('/access/v1/search/subject', { subject: { type: 'user' }, action: { name: 'can_update_todo' }, resource: todo('4') });
    expect(results).toEqual([user('morty')]);
  });

  it('subject search: who may read todos, two per page, each result confirmed by an evaluation', async () => {
    const { results, pages } = await allPages('/access/v1/search/subject', { subject: { type: 'user' }, action: { name: 'can_read_todos' }, resource: todo('1') });
    expect(results).toEqual(['beth', 'jerry', 'morty', 'rick', 'summer'].map(user));
    expect(pages).toBeGreaterThanOrEqual(3);
    for (const subject of results) {
      const check = await post('/access/v1/evaluation', { subject, action: { name: 'can_read_todos' }, resource: todo('1') });
      expect(check.body.decision).toBe(true);
    }
  });

  it('resource search: the todos beth may update (walks her tuples)', async () => {
    const { results } = await allPages('/access/v1/search/resource', { subject: user('beth'), action: { name: 'can_update_todo' }, resource: { type: 'todo' } });
    expect(results).toEqual([todo('1'), todo('3')]);
    const morty = await allPages('/access/v1/search/resource', { subject: user('morty'), action: { name: 'can_update_todo' }, resource: { type: 'todo' } });
    expect(morty.results).toEqual([todo('2'), todo('4')]);
  });

  it('action search: what summer may do with todo 1', async () => {
    const { results } = await allPages('/access/v1/search/action', { subject: user('summer'), resource: todo('1') });
    expect(results).toEqual([{ name: 'can_create_todo' }, { name: 'can_delete_todo' }, { name: 'can_read_todos' }]);
  });

  it('a forged or foreign page token is a 400', async () => {
    const body = { subject: { type: 'user' }, action: { name: 'can_read_todos' }, resource: todo('1') };
    const first = await post('/access/v1/search/subject', body);
    const token = (first.body.page as { next_token: string }).next_token;
    expect(token).not.toBe('');
    expect((await post('/access/v1/search/subject', { ...body, page: { token: 'forged!' } })).status).toBe(400);
    const foreign = await post('/access/v1/search/subject', { ...body, resource: todo('2'), page: { token } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.message).toMatch(/another query/);
  });

  it('a search about another service is a 403', async () => {
    const answer = await post('/access/v1/search/resource', { subject: user('beth'), action: { name: 'can_pay' }, resource: { type: 'invoice' } });
    expect(answer.status).toBe(403);
  });
});

describe('metadata and transports', () => {
  it('GET /.well-known/authzen-configuration names the endpoints', async () => {
    const response = await fetch(`${fx.base}/.well-known/authzen-configuration`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      policy_decision_point: fx.base,
      access_evaluation_endpoint: `${fx.base}/access/v1/evaluation`,
      access_evaluations_endpoint: `${fx.base}/access/v1/evaluations`,
      search_subject_endpoint: `${fx.base}/access/v1/search/subject`,
      search_resource_endpoint: `${fx.base}/access/v1/search/resource`,
      search_action_endpoint: `${fx.base}/access/v1/search/action`,
    });
  });

  it('serves h2c (HTTP/2 with prior knowledge), several streams on one connection', async () => {
    const session = connect(fx.base);
    try {
      const ask = (id: string) =>
        new Promise<{ status: number; requestId: unknown; body: Record<string, unknown> }>((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': '/access/v1/evaluation', 'content-type': 'application/json', authorization: `Bearer ${svcToken}`, 'x-request-id': `h2-${id}` });
          let status = 0;
          let requestId: unknown;
          let text = '';
          stream.on('response', (headers) => {
            status = Number(headers[':status']);
            requestId = headers['x-request-id'];
          });
          stream.setEncoding('utf8');
          stream.on('data', (chunk: string) => (text += chunk));
          stream.on('end', () => resolve({ status, requestId, body: JSON.parse(text) as Record<string, unknown> }));
          stream.on('error', reject);
          stream.end(JSON.stringify({ subject: user('beth'), resource: todo(id), action: { name: 'can_update_todo' } }));
        });
      const answers = await Promise.all(['1', '2', '3'].map(ask));
      expect(answers.map((answer) => [answer.status, answer.requestId, answer.body.decision])).toEqual([
        [200, 'h2-1', true],
        [200, 'h2-2', false],
        [200, 'h2-3', true],
      ]);

      // One question at a time on the session: each answer must leave at once. A handed-over socket
      // that kept Nagle's algorithm waited for the client's delayed ACK, ~40 ms per answer (a
      // generous bound, far from both: an answer takes about a millisecond here).
      const lapsMs: number[] = [];
      for (let i = 0; i < 9; i++) {
        const started = performance.now();
        expect((await ask('1')).status).toBe(200);
        lapsMs.push(performance.now() - started);
      }
      expect(lapsMs.sort((a, b) => a - b)[4], `sequential h2c answers took ${lapsMs.map((ms) => ms.toFixed(1)).join(', ')} ms`).toBeLessThan(25);
    } finally {
      session.close();
    }
  });
});

describe('metrics', () => {
  /** The value of one series of the exposition, 0 when it is not there (yet). */
  const series = async (line: string) => {
    const text = await fx.keycard.metrics.registry.metrics();
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found === undefined ? 0 : Number(found.slice(line.length + 1));
  };
  const counted = async () => ({
    evaluation200: await series('keycard_authzen_requests_total{endpoint="evaluation",status="200"}'),
    evaluations200: await series('keycard_authzen_requests_total{endpoint="evaluations",status="200"}'),
    evaluation401: await series('keycard_authzen_requests_total{endpoint="evaluation",status="401"}'),
    evaluationAllow: await series('keycard_authzen_decisions_total{endpoint="evaluation",decision="allow"}'),
    evaluationsAllow: await series('keycard_authzen_decisions_total{endpoint="evaluations",decision="allow"}'),
    evaluationsDeny: await series('keycard_authzen_decisions_total{endpoint="evaluations",decision="deny"}'),
  });

  it('counts requests by endpoint and status, and decisions by endpoint and verdict', async () => {
    const before = await counted();
    expect((await post('/access/v1/evaluation', { subject: user('beth'), resource: todo('1'), action: { name: 'can_update_todo' } })).body.decision).toBe(true);
    const batch = await post('/access/v1/evaluations', { subject: user('beth'), action: { name: 'can_update_todo' }, evaluations: [{ resource: todo('1') }, { resource: todo('2') }, { resource: todo('3') }] });
    expect((batch.body.evaluations as { decision: boolean }[]).map((item) => item.decision)).toEqual([true, false, true]);
    expect((await post('/access/v1/evaluation', {}, { authorization: '' })).status).toBe(401);
    const after = await counted();
    expect(Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - before[name as keyof typeof before]]))).toEqual({
      evaluation200: 1,
      evaluations200: 1,
      evaluation401: 1,
      evaluationAllow: 1,
      evaluationsAllow: 2,
      evaluationsDeny: 1,
    });
  });
});
