// keycard.access end to end: a Keycard built from a settings file decides access questions from
// its policies and store, counts them in its metrics and audits them; with a Redis store shared by
// two keycards, a directory change made through one is enforced by the other (its cache dropped
// by the change feed).
import { readFileSync } from 'node:fs';
import { HIDDEN_VALUE } from '../../src/access/hide-values.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keycard } from '../../src/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import type { AccessQuestion } from '../../src/access/types.js';
import { waitForAuditLine } from '../helpers/audit.js';
import { RedisServer } from '../helpers/redis-server.js';
import { eventually, uniquePrefix } from '../helpers/redis-store.js';
import { settingsYaml, Workspace } from '../helpers/workspace.js';

const POLICY = `
service: todos
rules:
  - id: owner-updates
    effect: allow
    match: { actions: [can_update_todo], resources: [todo] }
    when:
      - { role: member }
      - { attribute: { name: resource.properties.ownerID, equals: { attribute: subject.properties.email } } }
`;
const SEED = `
roleBindings:
  - { subject: alice, roles: [member], service: todos }
subjects:
  - { id: alice, properties: { email: alice@example.com } }
`;

const update = (owner: string): AccessQuestion => ({
  subject: { type: 'user', id: 'alice', properties: { email: owner } },
  action: { name: 'can_update_todo' },
  resource: { type: 'todo', id: '1', properties: { ownerID: owner } },
  requestId: 'req-1',
});

async function keycardFrom(workspace: Workspace, store: string): Promise<Keycard> {
  const config = workspace.write(`keycard-${Math.random().toString(36).slice(2)}.yaml`, settingsYaml().replace('store: { type: memory, seedFile: seed.yaml }', store));
  const keycard = new Keycard(loadSettings(config), createLogger('silent'));
  await keycard.load({ keys: false });
  return keycard;
}

describe('keycard.access with the memory store', () => {
  let workspace: Workspace;
  let keycard: Keycard;
  beforeAll(async () => {
    workspace = new Workspace().writeAll({ 'policies/todos.yaml': POLICY, 'seed.yaml': SEED, 'jwks.json': { keys: [] } });
    keycard = await keycardFrom(workspace, 'store: { type: memory, seedFile: seed.yaml }');
  });
  afterAll(async () => {
    await keycard.stop();
    workspace.remove();
  });

  it('decides from the seeded roles and directory, counts the decision and audits who asked about what', async () => {
    const allowed = await keycard.access.decide(update('alice@example.com'));
    expect(allowed).toMatchObject({ allowed: true, service: 'todos', ruleId: 'owner-updates' });
    // The e-mail the caller sent is not the directory's: it does not make bob's todo alice's.
    const denied = await keycard.access.decide(update('bob@example.com'));
    expect(denied).toMatchObject({ allowed: false, reason: 'no_matching_rule' });

    const metrics = await keycard.metrics.registry.metrics();
    expect(metrics).toMatch(/keycard_decisions_total\{service="todos",decision="allow",reason="allowed"\} 1/);
    expect(metrics).toMatch(/keycard_decisions_total\{service="todos",decision="deny",reason="no_matching_rule"\} 1/);

    const file = workspace.path('audit.log');
    // Audit lines are written within a second.
    const line = await waitForAuditLine(file, denied.id);
    expect(line).toMatchObject({
      type: 'access_decision',
      request_id: 'req-1',
      service: 'todos',
      subject_type: 'user',
      subject: 'alice',
      action: 'can_update_todo',
      resource_type: 'todo',
      resource_id: '1',
      roles: ['member'],
      decision: 'deny',
      status: 403,
      reason: 'no_matching_rule',
    });
    expect((line.explanation as { failed: string }[])[0]?.failed).toContain('does not satisfy equals subject.properties.email');
    // Caller-sent properties are not written to the audit log, not even quoted in a failed condition.
    const audited = readFileSync(file, 'utf8');
    expect(audited).not.toContain('"properties"');
    expect(audited).not.toContain('bob@example.com');
    expect((line.explanation as { failed: string }[])[0]?.failed).toContain(`resource.properties.ownerID (${HIDDEN_VALUE})`);
  });
});

describe('keycard.access with a Redis store shared by two keycards', () => {
  let server: RedisServer;
  let workspace: Workspace;
  const keycards: Keycard[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
    workspace = new Workspace().writeAll({ 'policies/todos.yaml': POLICY, 'seed.yaml': SEED, 'jwks.json': { keys: [] } });
  });
  afterAll(async () => {
    await Promise.all(keycards.map((keycard) => keycard.stop()));
    workspace.remove();
    await server?.remove();
  });

  it('enforces a directory change made through one keycard on the other, which answered from its cache before', async () => {
    const store = `store: { type: redis, url: "${server.url()}", keyPrefix: "${uniquePrefix()}", seedFile: seed.yaml }`;
    const [a, b] = [await keycardFrom(workspace, store), await keycardFrom(workspace, store)];
    keycards.push(a!, b!);
    await eventually(() => a!.store.health().healthy && b!.store.health().healthy, 5000, 'both stores connected with their change feeds');
    await eventually(async () => (await a!.access.decide(update('alice@example.com'))).allowed, 5000, 'the seed applied');
    // b answers, then answers again from its cache.
    expect((await b!.access.decide(update('alice@example.com'))).allowed).toBe(true);
    expect((await b!.access.decide(update('alice@example.com'))).allowed).toBe(true);
    const cached = await b!.metrics.registry.getSingleMetricAsString('keycard_store_cache_hits_total');
    expect(cached).toMatch(/op="subjectProperties"\} [1-9]/);

    await a!.store.putSubject('alice', { email: 'alice@new.example.com' });
    await eventually(async () => !(await b!.access.decide(update('alice@example.com'))).allowed, 5000, 'b enforcing the new e-mail');
    expect(await b!.access.decide(update('alice@new.example.com'))).toMatchObject({ allowed: true });
    const invalidations = await b!.metrics.registry.getSingleMetricAsString('keycard_store_invalidations_total');
    expect(invalidations).toMatch(/kind="subject"\} [1-9]/);
  });
});
