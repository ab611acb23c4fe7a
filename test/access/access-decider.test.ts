// The AccessDecider: access questions decided with the Check path's evaluator, policies and live
// state. The route special case gives exactly Check's decision; the directory is read only when a
// condition needs it; caller-sent properties count only where the policy says; failures deny.
import { describe, expect, it } from 'vitest';
import { AccessDecider, type AccessDeciderDeps } from '../../src/access/access-decider.js';
import type { AccessQuestion } from '../../src/access/types.js';
import type { Decision } from '../../src/pipeline/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { RelationResolver } from '../../src/policy/relations/resolver.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { ControlledStore } from '../helpers/controlled-store.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml, user } from '../helpers/policy.js';

const SCHEMA = new RelationSchema({ subjectType: 'user', maxDepth: 4, maxReads: 64, types: { todo: { owner: [] } } });

const TODOS = `
service: todos
subjectProperties: { fromCaller: [team], callerOverrides: [locale] }
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/todos", "/todos/{id}"] }, when: [{ role: [member, admin] }] }
  - { id: update-own, effect: allow, match: { methods: [PUT], paths: ["/todos/{id}"] }, when: [{ role: member }, { relation: "todo:{id}#owner" }] }
  - id: delete-ops
    effect: allow
    match: { methods: [DELETE], paths: ["/todos/{id}"] }
    when: [{ role: admin }, { attribute: { name: subject.properties.department, equals: ops } }]
  - { id: no-trace, effect: deny, match: { methods: [TRACE] } }
  - { id: a-read, effect: allow, match: { actions: [can_read_todo], resources: [todo] }, when: [{ role: [member, admin] }] }
  - { id: a-update-own, effect: allow, match: { actions: [can_update_todo], resources: [todo] }, when: [{ role: member }, { relation: "todo:{id}#owner" }] }
  - id: a-team
    effect: allow
    match: { actions: [can_share_todo], resources: [todo] }
    when:
      - { attribute: { name: subject.properties.team, equals: { attribute: resource.properties.team } } }
      - { attribute: { name: subject.properties.email, equals: { attribute: resource.properties.ownerID } } }
  - { id: a-locale, effect: allow, match: { actions: [can_translate_todo], resources: [todo] }, when: [{ attribute: { name: subject.properties.locale, equals: de } }] }
`;
const PLAIN = `
service: plain
rules:
  - { id: read, effect: allow, match: { methods: [GET] }, when: [{ role: member }] }
  - { id: a-read, effect: allow, match: { actions: [read], resources: [doc] }, when: [{ role: member }] }
`;
const TRIAL = `
service: trial
mode: dry-run
rules:
  - { id: a-read, effect: allow, match: { actions: [read], resources: [memo] }, when: [{ role: nobody }] }
`;

const policies = new PolicySet(
  [compileYaml(TODOS, ['test-idp'], 'todos.yaml', { relationSchema: SCHEMA }), compileYaml(PLAIN, ['test-idp'], 'plain.yaml'), compileYaml(TRIAL, ['test-idp'], 'trial.yaml')],
  'v1',
);

function memory(): MemoryStore {
  return new MemoryStore(
    [
      { subject: 'alice', role: 'member' },
      { subject: 'bob', role: 'member' },
      { subject: 'root', role: 'admin' },
      { subject: 'ops', role: 'admin' },
    ],
    [{ object: 'todo:7', relation: 'owner', subject: 'user:alice' }],
    Date.now,
    [
      { id: 'alice', properties: { email: 'alice@example.com', team: 'red', locale: 'en' } },
      { id: 'ops', properties: { department: 'ops' } },
      { id: 'root', properties: { department: 'it' } },
    ],
  );
}

function decider(store = memory(), extra: Partial<AccessDeciderDeps> = {}): AccessDecider {
  return new AccessDecider({ policies: () => policies, store, relations: new RelationResolver(store, SCHEMA), ...extra });
}

const question = (subject: string, action: string, type: string, id: string, properties?: Record<string, string>, subjectProperties?: Record<string, string>): AccessQuestion => ({
  subject: { type: 'user', id: subject, ...(subjectProperties && { properties: subjectProperties }) },
  action: { name: action },
  resource: { type, id, ...(properties && { properties }) },
});

const route = (subject: string, method: string, path: string, service = 'todos') => question(subject, method, 'route', path, { service });

const essence = (decision: Decision) => ({ allowed: decision.allowed, reason: decision.reason, status: decision.status, ruleId: decision.ruleId, trace: decision.trace, path: decision.path });

describe('AccessDecider: the route special case', () => {
  it('gives the decision Check gives for the same method, path and subject', async () => {
    const store = memory();
    const access = decider(store);
    const cases: [string, string, string][] = [
      ['alice', 'GET', '/todos/7'],
      ['alice', 'PUT', '/todos/7'],
      ['bob', 'PUT', '/todos/7'],
      ['ops', 'DELETE', '/todos/7'],
      ['root', 'DELETE', '/todos/7'],
      ['carol', 'GET', '/todos'],
      ['alice', 'GET', '/todos/./7/?q=1'],
      ['alice', 'TRACE', '/todos'],
      ['alice', 'GET', '/todos/%2F'],
    ];
    for (const [subject, method, path] of cases) {
      const check = pipelineWith({ policies: () => policies, authenticator: fixedIdentity(user(subject)), store, relations: new RelationResolver(store, SCHEMA) });
      const viaCheck = await check.decide({ ...authzInput('todos', path), method });
      const viaAccess = await access.decide(route(subject, method, path));
      expect(essence(viaAccess), `${subject} ${method} ${path}`).toEqual(essence(viaCheck));
    }
  });

  it('needs an upper-case method and the service in resource.properties.service', async () => {
    const access = decider();
    expect(await access.decide(route('alice', 'get', '/todos'))).toMatchObject({ allowed: false, reason: 'invalid_request', status: 400 });
    expect(await access.decide(question('alice', 'GET', 'route', '/todos'))).toMatchObject({ allowed: false, reason: 'unknown_service' });
    expect(await access.decide(route('alice', 'GET', '/todos', 'nope'))).toMatchObject({ allowed: false, reason: 'unknown_service' });
  });
});

describe('AccessDecider: access questions', () => {
  it('decides by the access rules of the type\'s policy, roles from the store, {id} bound for relations', async () => {
    const access = decider();
    expect(await access.decide(question('alice', 'can_read_todo', 'todo', '7'))).toMatchObject({ allowed: true, service: 'todos', ruleId: 'a-read', roles: ['member'], policyVersion: 'v1' });
    expect(await access.decide(question('alice', 'can_update_todo', 'todo', '7'))).toMatchObject({ allowed: true, ruleId: 'a-update-own' });
    const notOwner = await access.decide(question('bob', 'can_update_todo', 'todo', '7'));
    expect(notOwner).toMatchObject({ allowed: false, reason: 'no_matching_rule', status: 403 });
    expect(notOwner.detail).toContain('a-update-own: user:bob is not owner of todo:7');
    const decision = await access.decide(question('alice', 'can_read_todo', 'todo', '7'));
    expect(decision.identity).toMatchObject({ authenticated: true, subject: 'alice', credential: 'authzen', issuer: 'authzen' });
    expect(Object.keys(decision.phaseMs).sort()).toEqual(['authorize', 'identity', 'route', 'state']);
  });

  it('uses caller-sent properties only where the policy lists them, overriding the directory only for callerOverrides', async () => {
    const access = decider();
    // team comes from the directory (red); the caller's blue fills in only where the directory has none.
    const share = (subject: string, team: string) => access.decide(question(subject, 'can_share_todo', 'todo', '1', { team, ownerID: 'alice@example.com' }, { team: 'blue', email: 'alice@example.com' }));
    expect(await share('alice', 'red')).toMatchObject({ allowed: true, ruleId: 'a-team' });
    expect(await share('alice', 'blue')).toMatchObject({ allowed: false });
    // bob has no directory entry: team blue is taken from the caller, but email is not (not listed).
    const bob = await share('bob', 'blue');
    expect(bob).toMatchObject({ allowed: false });
    expect(bob.trace[0]?.failed).toBe('attribute subject.properties.email is missing (no "email")');
    // locale may be overridden: the caller's de wins over the directory's en.
    expect(await access.decide(question('alice', 'can_translate_todo', 'todo', '1', undefined, { locale: 'de' }))).toMatchObject({ allowed: true });
    expect(await access.decide(question('alice', 'can_translate_todo', 'todo', '1'))).toMatchObject({ allowed: false });
  });

  it('reads the directory only for policies whose conditions read it, once per decision', async () => {
    const store = new ControlledStore(memory());
    const access = decider(undefined, { store });
    await access.decide(question('alice', 'read', 'doc', '1'));
    await access.decide(question('alice', 'can_read_todo', 'todo', '1'));
    const check = pipelineWith({ policies: () => policies, authenticator: fixedIdentity(user('alice')), store });
    await check.decide(authzInput('plain', '/x'));
    expect(store.calls.subjectProperties).toBe(0);
    // Two conditions on subject.properties: one read.
    await access.decide(question('alice', 'can_share_todo', 'todo', '1', { team: 'red', ownerID: 'alice@example.com' }));
    expect(store.calls.subjectProperties).toBe(1);
    // Lazily: alice fails delete-ops on its role before its directory condition is reached.
    await check.decide({ ...authzInput('todos', '/todos/1'), method: 'DELETE' });
    expect(store.calls.subjectProperties).toBe(1);
    const asOps = pipelineWith({ policies: () => policies, authenticator: fixedIdentity(user('ops')), store });
    expect(await asOps.decide({ ...authzInput('todos', '/todos/1'), method: 'DELETE' })).toMatchObject({ allowed: true, ruleId: 'delete-ops' });
    expect(store.calls.subjectProperties).toBe(2);
  });

  it('denies, never throws: unknown type, no policies, malformed question, store down; dry-run allows and records', async () => {
    expect(await decider().decide(question('alice', 'read', 'nothing', '1'))).toMatchObject({ allowed: false, reason: 'unknown_resource_type', status: 403 });
    const none = new AccessDecider({ policies: () => undefined, store: memory(), relations: new RelationResolver(memory(), SCHEMA) });
    expect(await none.decide(question('alice', 'read', 'doc', '1'))).toMatchObject({ allowed: false, reason: 'not_ready', status: 503 });
    expect(await decider().decide(question('', 'read', 'doc', '1'))).toMatchObject({ allowed: false, reason: 'invalid_request' });
    expect(await decider().decide({ ...question('a', 'read', 'doc', '1'), context: [] as never })).toMatchObject({ allowed: false, reason: 'invalid_request' });
    const failing = new ControlledStore(memory());
    failing.failure = new Error('connection refused');
    const down = await decider(undefined, { store: failing }).decide(question('alice', 'read', 'doc', '1'));
    expect(down).toMatchObject({ allowed: false, reason: 'store_unavailable', status: 503 });
    const trial = await decider().decide(question('alice', 'read', 'memo', '1'));
    expect(trial).toMatchObject({ allowed: true, dryRun: { reason: 'no_matching_rule' } });
  });

  it('tells its observer every decision with the question', async () => {
    const seen: [Decision, AccessQuestion][] = [];
    const access = decider(undefined, { onDecision: (decision, asked) => void seen.push([decision, asked]) });
    const asked = question('alice', 'can_read_todo', 'todo', '7');
    const decision = await access.decide(asked);
    const broken = new AccessDecider({ policies: () => policies, store: memory(), relations: new RelationResolver(memory(), SCHEMA), onDecision: () => { throw new Error('observer'); } });
    expect(await broken.decide(asked)).toMatchObject({ allowed: true });
    expect(seen).toEqual([[decision, asked]]);
  });
});
