// The AuthZEN listener in `keycard serve --workers 2` as real processes: both workers answer
// evaluations on the one `authzen.listen` port, over several HTTP/1.1 keep-alive connections and
// an h2c session; their access decisions reach the primary's decision explorer; SIGTERM with
// connections still open stops every worker and the primary exits 0, and an evaluation in flight
// when the signal comes (HTTP/1.1 or h2c) is still answered.
import { connect, type ClientHttp2Session } from 'node:http2';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { freePort } from '../helpers/redis-server.js';
import { Workspace } from '../helpers/workspace.js';
import { BILLING_POLICY, SEED, TODO_POLICY, todoSettingsYaml } from '../authzen/fixture.js';
import { childPids, establishedConnections } from './proc.js';

interface Answer {
  readonly status: number;
  readonly body: { decision?: boolean; context?: { reason?: string; rule?: string; id?: string } };
  /** The client side's port: the same one for every request of a keep-alive connection. */
  readonly localPort: number | undefined;
}

/** The answer, or a rejection when its body is not JSON (a cut connection). */
function settle(resolve: (answer: Answer) => void, reject: (error: Error) => void, status: number, chunks: Buffer[], localPort: number | undefined): void {
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    resolve({ status, body: JSON.parse(text) as Answer['body'], localPort });
  } catch {
    reject(new Error(`status ${status}, not a JSON body: ${JSON.stringify(text.slice(0, 200))}`));
  }
}

/** One evaluation over `agent`'s connection. */
function evaluate(port: number, agent: Agent, token: string, question: object): Promise<Answer> {
  const body = JSON.stringify(question);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/access/v1/evaluation', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => settle(resolve, reject, response.statusCode ?? 0, chunks, req.socket?.localPort));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function evaluateH2(session: ClientHttp2Session, token: string, question: object): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/access/v1/evaluation', 'content-type': 'application/json', authorization: `Bearer ${token}` });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => settle(resolve, reject, status, chunks, undefined));
    stream.on('error', reject);
    stream.end(JSON.stringify(question));
  });
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached in time; last value ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function settings(authzenPort: number, issuerKeys: string, extra = ''): string {
  return todoSettingsYaml({ issuerKeys: `${issuerKeys}\n    jwksMinRefreshInterval: 0s`, authzenPort, extra });
}

const user = (id: string) => ({ type: 'user', id });
const todo = (id: string) => ({ type: 'todo', id });
/** beth edits and owns todo 1 (allowed); she does not own todo 2 (denied); rick only views (denied). */
const QUESTIONS = [
  { question: { subject: user('beth'), action: { name: 'can_update_todo' }, resource: todo('1') }, decision: true, reason: 'allowed' },
  { question: { subject: user('beth'), action: { name: 'can_update_todo' }, resource: todo('2') }, decision: false, reason: 'no_matching_rule' },
  { question: { subject: user('rick'), action: { name: 'can_create_todo' }, resource: todo('new') }, decision: false, reason: 'no_matching_rule' },
  { question: { subject: user('rick'), action: { name: 'can_read_todos' }, resource: todo('4') }, decision: true, reason: 'allowed' },
];

interface Listed {
  decisions: { kind?: string; id: string; subjectType?: string; subject?: string; action?: string; resourceType?: string; resourceId?: string; decision: string; reason: string; service?: string }[];
}

describe('AuthZEN with two workers', () => {
  let workspace: Workspace;
  let keycard: KeycardProcess;
  let key: TestKey;
  let authzenPort: number;
  let token: string;

  beforeAll(async () => {
    key = await makeKey('ES256');
    authzenPort = await freePort();
    workspace = new Workspace().writeAll({
      'keycard.yaml': settings(authzenPort, 'jwksFile: jwks.json', 'explorer: { enabled: true, capacity: 100 }'),
      'jwks.json': jwks(key),
      'policies/todos.yaml': TODO_POLICY,
      'policies/billing.yaml': BILLING_POLICY,
      'seed.yaml': SEED,
    });
    keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
    token = await signToken(key, { sub: 'svc-todos' });
  });
  afterAll(async () => {
    await keycard?.stop('SIGKILL');
    workspace?.remove();
  });

  it('answer allow and deny correctly on the one port, over several keep-alive connections, spread over both workers', async () => {
    const workers = childPids(keycard.process.pid!);
    expect(workers).toHaveLength(2);
    const agents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      for (const agent of agents) {
        const ports = new Set<number | undefined>();
        for (const { question, decision, reason } of QUESTIONS) {
          const answer = await evaluate(authzenPort, agent, token, question);
          expect(answer.status).toBe(200);
          expect(answer.body.decision).toBe(decision);
          expect(answer.body.context?.reason).toBe(reason);
          ports.add(answer.localPort);
        }
        // Every request of this agent went over one connection.
        expect(ports.size).toBe(1);
      }
      // The primary hands connections to the workers in turn: each holds some of the four.
      const held = workers.map((pid) => establishedConnections(pid, authzenPort));
      expect(held.map((count) => count > 0)).toEqual([true, true]);
      expect(held[0]! + held[1]!).toBe(4);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  it('answer over h2c too', async () => {
    const session = connect(`http://127.0.0.1:${authzenPort}`);
    try {
      const answers = await Promise.all(QUESTIONS.map(({ question }) => evaluateH2(session, token, question)));
      expect(answers.map((answer) => [answer.status, answer.body.decision])).toEqual(QUESTIONS.map(({ decision }) => [200, decision]));
    } finally {
      session.close();
    }
  });

  it("send their access decisions to the primary's explorer, where they filter and explain themselves", async () => {
    const listed = async (query: string) => (await (await fetch(`${keycard.adminUrl}/explorer/api/decisions?${query}`)).json()) as Listed;
    // 4 keep-alive connections and one h2c session asked the four questions each.
    const all = await until(() => listed(''), (value) => value.decisions.length === 20);
    expect(all.decisions.every((record) => record.kind === 'access' && record.service === 'todos')).toBe(true);
    const denied = await listed('decision=deny&subject=beth&path=todo:2');
    expect(denied.decisions).toHaveLength(5);
    expect(denied.decisions[0]).toMatchObject({ subjectType: 'user', subject: 'beth', action: 'can_update_todo', resourceType: 'todo', resourceId: '2', reason: 'no_matching_rule' });
    const explained = (await (await fetch(`${keycard.adminUrl}/explorer/api/decisions/${denied.decisions[0]!.id}`)).json()) as { explanation: string[] };
    expect(explained.explanation[0]).toBe('question  can_update_todo on todo "2" (access question)');
    expect(explained.explanation.find((line) => line.trimStart().startsWith('update-own'))).toMatch(/update-own\s+allow\s+not applied: user:beth is not owner of todo:2$/);
  });

  it('stop on SIGTERM with connections still open: every worker exits and the primary exits 0', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const session = connect(`http://127.0.0.1:${authzenPort}`);
    try {
      expect((await evaluate(authzenPort, agent, token, QUESTIONS[0]!.question)).body.decision).toBe(true);
      expect((await evaluateH2(session, token, QUESTIONS[0]!.question)).body.decision).toBe(true);
      const started = Date.now();
      expect(await keycard.stop('SIGTERM')).toBe(0);
      // Well within the grace period (10 s by default) plus the primary's kill margin: nobody waited on an idle connection.
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(childPids(keycard.process.pid!)).toEqual([]);
    } finally {
      agent.destroy();
      session.destroy();
    }
  });
});

describe('SIGTERM with AuthZEN evaluations in flight', () => {
  it('answers them (HTTP/1.1 and h2c) before the workers exit, and the primary exits 0', async () => {
    const oldKey = await makeKey('ES256');
    const newKey = await makeKey('ES256');
    // The JWKS endpoint answers the workers' first loads at once; once `slow`, it answers after
    // 1.5 s with newKey too, so evaluations asked with newKey's token are in flight when the signal comes.
    let slow = false;
    let refreshes = 0;
    let refreshStarted!: () => void;
    const refreshing = new Promise<void>((resolve) => (refreshStarted = resolve));
    const jwksServer: Server = createServer((_request, response) => {
      if (!slow) return response.end(JSON.stringify(jwks(oldKey)));
      // Both evaluations may land on one worker (one fetch) or on both (two): go once the first waits.
      if (++refreshes === 1) refreshStarted();
      setTimeout(() => response.end(JSON.stringify(jwks(oldKey, newKey))), 1500);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    const authzenPort = await freePort();
    const workspace = new Workspace().writeAll({
      'keycard.yaml': settings(authzenPort, `jwksUri: "${uri}"`),
      'policies/todos.yaml': TODO_POLICY,
      'seed.yaml': SEED,
    });
    const keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const session = connect(`http://127.0.0.1:${authzenPort}`);
    try {
      // Both connections open and in use before the slow questions: these go over them.
      const oldToken = await signToken(oldKey, { sub: 'svc-todos' });
      expect((await evaluate(authzenPort, agent, oldToken, QUESTIONS[0]!.question)).status).toBe(200);
      expect((await evaluateH2(session, oldToken, QUESTIONS[0]!.question)).status).toBe(200);
      slow = true;
      const token = await signToken(newKey, { sub: 'svc-todos' });
      const inFlight = [evaluate(authzenPort, agent, token, QUESTIONS[0]!.question), evaluateH2(session, token, QUESTIONS[1]!.question)];
      // One question waits for the keys; give the other time to reach its worker too (it would
      // wait for the keys as well: the signal still comes long before they are served).
      await refreshing;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exited = keycard.stop('SIGTERM');
      const answers = await Promise.all(inFlight);
      expect(answers.map((answer) => [answer.status, answer.body.decision])).toEqual([
        [200, true],
        [200, false],
      ]);
      expect(await exited).toBe(0);
      expect(childPids(keycard.process.pid!)).toEqual([]);
    } finally {
      agent.destroy();
      session.destroy();
      await keycard.stop('SIGKILL');
      await new Promise((resolve) => jwksServer.close(resolve));
      workspace.remove();
    }
  });
});
