// The AuthzenClient against a real keycard, and failing closed against servers that misbehave.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthzenClient, AuthzenError } from '../../src/client/index.js';
import { startAuthzenKeycard, type AuthzenFixture } from './fixture.js';

let fx: AuthzenFixture;
beforeAll(async () => {
  fx = await startAuthzenKeycard('  search: { defaultPageSize: 2 }');
});
afterAll(async () => fx?.stop());

const question = { subject: { type: 'user', id: 'beth' }, action: { name: 'can_update_todo' }, resource: { type: 'todo', id: '1' } };

async function misbehaving(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('AuthzenClient', () => {
  it('evaluates, batches and searches against keycard (token function, request id)', async () => {
    const client = new AuthzenClient({ baseUrl: fx.base, token: () => fx.token('svc-todos') });
    try {
      expect(await client.evaluate(question, { requestId: 'r-1' })).toMatchObject({ decision: true, context: { rule: 'update-own' } });
      const batch = await client.evaluations({ subject: question.subject, action: question.action, evaluations: [{ resource: { type: 'todo', id: '2' } }, { resource: { type: 'todo', id: '3' } }], options: { evaluations_semantic: 'permit_on_first_permit' } });
      expect(batch.evaluations.map((item) => item.decision)).toEqual([false, true]);
      const subjects = [];
      let token = '';
      do {
        const page = await client.searchSubjects({ subject: { type: 'user' }, action: { name: 'can_read_todos' }, resource: { type: 'todo', id: '1' }, ...(token && { page: { token } }) });
        subjects.push(...page.results.map((subject) => subject.id));
        token = page.page.next_token;
      } while (token !== '');
      expect(subjects).toEqual(['beth', 'jerry', 'morty', 'rick', 'summer']);
      expect((await client.searchResources({ subject: { type: 'user', id: 'beth' }, action: { name: 'can_update_todo' }, resource: { type: 'todo' } })).results).toEqual([
        { type: 'todo', id: '1' },
        { type: 'todo', id: '3' },
      ]);
      expect((await client.searchActions({ subject: { type: 'user', id: 'rick' }, resource: { type: 'todo', id: '1' } })).results).toEqual([{ name: 'can_read_todos' }]);
    } finally {
      client.close();
    }
  });

  it('fails closed when the caller is refused (401/403): decision false with the error', async () => {
    for (const token of ['garbage', await fx.token('svc-billing')]) {
      const client = new AuthzenClient({ baseUrl: fx.base, token });
      const answer = await client.evaluate(question);
      expect(answer.decision).toBe(false);
      expect(answer.context).toMatchObject({ error: { code: 'http_error' } });
      const batch = await client.evaluations({ evaluations: [question, question] });
      expect(batch.evaluations).toHaveLength(2);
      expect(batch.evaluations.every((item) => item.decision === false)).toBe(true);
      await expect(client.searchActions({ subject: question.subject, resource: question.resource })).rejects.toBeInstanceOf(AuthzenError);
      client.close();
    }
  });

  it('fails closed when nothing listens, on a timeout and on a malformed answer', async () => {
    const closed = await misbehaving(() => undefined);
    const deadBase = closed.base;
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const silent = await misbehaving(() => undefined); // never answers
    const liar = await misbehaving((_request, response) => response.end('{"decision":"yes"}'));
    const batchLiar = await misbehaving((_request, response) => response.end('{"evaluations":[{"decision":true},{"decision":true},{"decision":true}]}'));
    try {
      const cases: [string, number][] = [
        [deadBase, 2000],
        [silent.base, 200],
        [liar.base, 2000],
      ];
      for (const [baseUrl, timeoutMs] of cases) {
        const client = new AuthzenClient({ baseUrl, timeoutMs });
        const started = Date.now();
        const answer = await client.evaluate(question);
        expect(answer.decision).toBe(false);
        expect(answer.context?.error).toBeDefined();
        expect(Date.now() - started).toBeLessThan(5000);
        client.close();
      }
      // More answers than questions is malformed too: never trusted as allows.
      const client = new AuthzenClient({ baseUrl: batchLiar.base });
      const batch = await client.evaluations({ evaluations: [question, question] });
      expect(batch.evaluations.map((item) => item.decision)).toEqual([false, false]);
      client.close();
    } finally {
      for (const { server } of [silent, liar, batchLiar]) server.closeAllConnections();
      await Promise.all([silent, liar, batchLiar].map(({ server }) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('is exported as keycard/client with types, from the built files', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    expect(pkg.exports['./client']).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' });
    const tsconfig = JSON.parse(readFileSync(new URL('../../tsconfig.client.json', import.meta.url), 'utf8')) as { compilerOptions: Record<string, unknown>; include: string[] };
    expect(tsconfig.compilerOptions).toMatchObject({ declaration: true, emitDeclarationOnly: true });
    expect(tsconfig.include).toEqual(['src/client/**/*.ts']);
  });
});
