// The todo app through both doors with the same policies: Envoy Check over gRPC (a JWT per user)
// and AuthZEN (the service asking about the same user), route questions and abstract actions.
// Every pair must get the same decision; the matrix holds allows and denies of each kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import { AuthzenClient } from '../../src/client/index.js';
import { startAuthzenKeycard, USERS, type AuthzenFixture } from './fixture.js';

let fx: AuthzenFixture;
let grpc: AuthorizationClient;
let client: AuthzenClient;

beforeAll(async () => {
  fx = await startAuthzenKeycard();
  grpc = createCheckClient(`127.0.0.1:${fx.grpcPort}`);
  client = new AuthzenClient({ baseUrl: fx.base, token: await fx.token('svc-todos'), timeoutMs: 5000 });
});
afterAll(async () => {
  client?.close();
  grpc?.close();
  await fx?.stop();
});

/** HTTP request → the abstract action on a todo that means the same. */
const REQUESTS: readonly { method: string; path: string; action: string; id: string }[] = [
  { method: 'GET', path: '/todos/1', action: 'can_read_todos', id: '1' },
  { method: 'POST', path: '/todos', action: 'can_create_todo', id: 'new' },
  ...['1', '2', '3', '4'].map((id) => ({ method: 'PUT', path: `/todos/${id}`, action: 'can_update_todo', id })),
  ...['1', '2'].map((id) => ({ method: 'DELETE', path: `/todos/${id}`, action: 'can_delete_todo', id })),
];

async function viaEnvoy(user: string, method: string, path: string): Promise<boolean> {
  const token = await fx.token(user);
  const response = await check(grpc, buildCheckRequest({ service: 'todos', host: 'todos.svc', method, path, headers: { authorization: `Bearer ${token}` } }));
  return response.status?.code === 0;
}

describe('the same decisions through Envoy Check and AuthZEN', () => {
  it('for every user and request, as a route question and as an abstract action', async () => {
    const rows: string[] = [];
    let allows = 0;
    for (const user of USERS) {
      for (const request of REQUESTS) {
        const envoy = await viaEnvoy(user, request.method, request.path);
        const subject = { type: 'user', id: user };
        const route = await client.evaluate({ subject, action: { name: request.method }, resource: { type: 'route', id: request.path, properties: { service: 'todos' } } });
        const abstract = await client.evaluate({ subject, action: { name: request.action }, resource: { type: 'todo', id: request.id } });
        expect(route.context?.error).toBeUndefined();
        expect(abstract.context?.error).toBeUndefined();
        rows.push(`${user} ${request.method} ${request.path}: envoy=${envoy} route=${route.decision} action=${abstract.decision}`);
        if (envoy) allows++;
        expect({ user, request: `${request.method} ${request.path}`, route: route.decision, action: abstract.decision }).toEqual({ user, request: `${request.method} ${request.path}`, route: envoy, action: envoy });
      }
    }
    // Not a trivial matrix: some of everything.
    expect(allows).toBeGreaterThan(5);
    expect(allows).toBeLessThan(rows.length - 5);
    expect(rows).toContain('beth PUT /todos/1: envoy=true route=true action=true'); // update-own
    expect(rows).toContain('beth PUT /todos/2: envoy=false route=false action=false'); // not hers
    expect(rows).toContain('morty PUT /todos/4: envoy=true route=true action=true'); // through group:team
    expect(rows).toContain('summer DELETE /todos/2: envoy=true route=true action=true'); // admin in ops (directory)
    expect(rows).toContain('jerry DELETE /todos/2: envoy=false route=false action=false'); // admin, not in ops
  });

  it('one batch of the whole matrix for a user matches Check', async () => {
    const evaluations = await client.evaluations({
      subject: { type: 'user', id: 'morty' },
      evaluations: REQUESTS.map((request) => ({ action: { name: request.action }, resource: { type: 'todo', id: request.id } })),
    });
    const envoy = await Promise.all(REQUESTS.map((request) => viaEnvoy('morty', request.method, request.path)));
    expect(evaluations.evaluations.map((item) => item.decision)).toEqual(envoy);
  });
});
