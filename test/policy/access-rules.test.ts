// Access rules (`match: { actions, resources }`) and attribute conditions: located load errors,
// and one evaluator answering access questions and HTTP requests, each only by its own rules.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import { declaredActions } from '../../src/access/declared-actions.js';
import { mayAsk } from '../../src/access/caller-scope.js';
import { evaluatePolicy, type CallerContext } from '../../src/policy/evaluate.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import type { AccessFacts, RelationChecker } from '../../src/policy/conditions/types.js';
import type { JsonObject } from '../../src/access/types.js';
import { configError } from '../helpers/config-error.js';
import { callerContext, compileYaml, loadErrors, user } from '../helpers/policy.js';
import { Workspace } from '../helpers/workspace.js';
import { formatConfigIssue } from '../../src/errors.js';

const TODOS = `
service: todos
rules:
  - { id: http-read, effect: allow, match: { methods: [GET], paths: ["/todos/{id}"] }, when: [{ role: member }] }
  - { id: read, effect: allow, match: { actions: [can_read], resources: [todo] }, when: [{ role: member }] }
  - { id: any-action-admin, effect: allow, match: { resources: [todo, list] }, when: [{ role: admin }] }
  - id: update-own
    effect: allow
    match: { actions: [can_update], resources: [todo] }
    when: [{ attribute: { name: resource.properties.ownerID, equals: { attribute: subject.properties.email } } }]
  - { id: frozen, effect: deny, match: { actions: [can_update], resources: [todo] }, when: [{ attribute: { name: resource.properties.status, equals: archived } }] }
  - { id: audit-only, effect: deny, dryRun: true, match: { actions: [can_read], resources: [todo] }, when: [{ attribute: { name: context.ip, equals: 10.0.0.1 } }] }
`;

function access(action: string, resource: { type?: string; id?: string; properties?: JsonObject } = {}, subject = 'alice', context: JsonObject = {}): AccessFacts {
  return { subject: { type: 'user', id: subject }, action: { name: action }, resource: { type: resource.type ?? 'todo', id: resource.id ?? '1', ...(resource.properties && { properties: resource.properties }) }, context };
}

function asked(facts: AccessFacts, overrides: Partial<CallerContext> = {}, directory?: JsonObject) {
  const caller = callerContext({ identity: user(facts.subject.id), access: facts, ...(directory && { subjectProperties: async () => directory }), ...overrides });
  return { kind: 'access' as const, action: facts.action.name, resourceType: facts.resource.type, resourceId: facts.resource.id, caller };
}

async function decide(policyText: string, facts: AccessFacts, overrides: Partial<CallerContext> = {}, directory?: JsonObject) {
  const question = asked(facts, overrides, directory);
  return evaluatePolicy(compileYaml(policyText), question, question.caller);
}

describe('access rules: load errors name file, line and field', () => {
  it('refuses a rule that mixes HTTP and access matching', () => {
    expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, match: { methods: [GET], actions: [read], resources: [doc] } }\n`)).toEqual([
      'policy.yaml:3:47 [invalid_value] rules[0].match.methods: a rule matches HTTP requests (match.methods, paths, operations, permissions) or access questions (match.actions, resources), not both: write two rules',
    ]);
    expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, match: { paths: [/x], resources: [doc] } }\n`)[0]).toMatch(/^policy\.yaml:3:\d+ \[invalid_value\] rules\[0\]\.match\.paths: a rule matches HTTP requests/);
  });

  it('needs resources, refuses the reserved type route, bad names, anonymous and permission', () => {
    expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, match: { actions: [read] } }\n`)).toEqual([
      expect.stringMatching(/^policy\.yaml:3:\d+ \[missing_key\] rules\[0\]\.match\.actions: match\.actions needs match\.resources/),
    ]);
    expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, match: { resources: [route] } }\n`)).toEqual([
      expect.stringMatching(/^policy\.yaml:3:\d+ \[invalid_value\] rules\[0\]\.match\.resources\[0\]: "route" is the resource type of HTTP routes/),
    ]);
    expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, match: { actions: ["can read"], resources: [doc] } }\n`)).toEqual([
      expect.stringMatching(/^policy\.yaml:3:\d+ \[invalid_value\] rules\[0\]\.match\.actions\[0\]: an action name starts with a letter/),
    ]);
    const errors = loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, permission: p, match: { resources: [doc] } }\n`);
    expect(errors).toEqual([
      expect.stringMatching(/rules\[0\]\.anonymous: anonymous applies to HTTP rules: an access question always names its subject$/),
      expect.stringMatching(/rules\[0\]\.permission: permission names what an HTTP rule grants/),
    ]);
  });

  it('refuses unknown attribute roots and fields, two operators, and request-less attributes in HTTP rules', () => {
    const rule = (when: string, match = '{ resources: [doc] }') => loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, match: ${match}, when: [${when}] }\n`);
    expect(rule('{ attribute: { name: user.email, equals: x } }')).toEqual([
      expect.stringMatching(/^policy\.yaml:3:\d+ \[invalid_value\] rules\[0\]\.when\[0\]\.attribute\.name: "user\.email": an attribute starts with subject, resource, action or context$/),
    ]);
    expect(rule('{ attribute: { name: subject.email, equals: x } }')[0]).toMatch(/"subject\.email": subject has subject\.id, subject\.type, subject\.properties\.<name>/);
    expect(rule('{ attribute: { name: subject.id, equals: { attribute: subject.properties } } }')[0]).toMatch(/when\[0\]\.attribute\.equals\.attribute: "subject\.properties": name a property/);
    expect(rule('{ attribute: { name: subject.id, equals: a, in: [b] } }')[0]).toMatch(/when\[0\]\.attribute\.in: use exactly one of equals, notEquals, in, contains, exists, lessThan, greaterThan/);
    expect(rule('{ attribute: { name: subject.id } }')[0]).toMatch(/when\[0\]\.attribute: use exactly one of/);
    expect(rule('{ attribute: { name: context.ip, equals: x } }', '{ methods: [GET] }')[0]).toMatch(/"context\.ip": HTTP requests have no context; only access rules/);
    expect(rule('{ attribute: { name: resource.properties.owner, exists: true } }', '{ methods: [GET] }')[0]).toMatch(/HTTP requests have no resource properties/);
    // subject.properties (the directory) and resource.id (the path) are fine in HTTP rules.
    expect(() => compileYaml(`service: s\nrules:\n  - { id: r, effect: allow, match: { methods: [GET] }, when: [{ attribute: { name: resource.id, equals: { attribute: subject.properties.home } } }] }\n`)).not.toThrow();
  });

  it('binds only {id} in access rules', () => {
    const schema = new RelationSchema({ subjectType: 'user', maxDepth: 4, maxReads: 64, types: { todo: { owner: [] } } });
    const errors = configError(
      () => compileYaml(`service: s\nrules:\n  - { id: r, effect: allow, match: { resources: [todo] }, when: [{ relation: "todo:{todoId}#owner" }] }\n`, ['test-idp'], 'policy.yaml', { relationSchema: schema }),
      'loaded',
    ).issues.map(formatConfigIssue);
    expect(errors).toEqual([expect.stringMatching(/when\[0\]\.relation: \{todoId\}: an access rule binds only \{id\} \(the resource id\)$/)]);
  });

  it('checks authzen callers: known issuers, an issuer never alone, valid principals', () => {
    expect(loadErrors(`service: s\nauthzen: { callers: [{ issuer: nope, subject: x }] }\n`)).toEqual([expect.stringMatching(/authzen\.callers\[0\]\.issuer: issuer "nope" is not configured/)]);
    expect(loadErrors(`service: s\nauthzen: { callers: [{ issuer: test-idp }] }\n`)[0]).toMatch(/authzen\.callers\[0\]: an issuer alone would let every caller of that issuer ask/);
    expect(loadErrors(`service: s\nauthzen: { callers: [{ principal: "spiffe://td/*/x" }] }\n`)[0]).toMatch(/authzen\.callers\[0\]\.principal: .*"\*" may only be the last path segment/);
  });

  it('makes two policies naming one resource type a load error naming both files', () => {
    const workspace = new Workspace().writeAll({
      'policies/a.yaml': 'service: a\nrules:\n  - { id: r, effect: allow, match: { resources: [todo] } }\n',
      'policies/b.yaml': 'service: b\nrules:\n  - { id: x, effect: allow, match: { methods: [GET] } }\n  - { id: r, effect: allow, match: { actions: [read], resources: [note, todo] } }\n',
    });
    try {
      const errors = configError(() => loadPolicies(workspace.path('policies'), { issuers: new Set() }), 'loaded').issues.map(formatConfigIssue);
      expect(errors).toEqual([expect.stringMatching(/b\.yaml:4:1 \[duplicate_resource_type\] rules\[1\]\.match\.resources: resource type "todo" is also named by the access rules of .*a\.yaml \(service "a"\)/)]);
    } finally {
      workspace.remove();
    }
  });
});

describe('one evaluator for access questions and HTTP requests', () => {
  it('answers an access question by the access rules for its type and action only', async () => {
    const member = { roles: new Set(['member']) };
    expect(await decide(TODOS, access('can_read'), member)).toMatchObject({ allowed: true, rule: { id: 'read' }, params: { id: '1' } });
    // The HTTP rule (also role member) never answers an access question.
    const other = await decide(TODOS, access('can_share'), member);
    expect(other).toMatchObject({ allowed: false, reason: 'no_matching_rule', trace: [{ id: 'any-action-admin', outcome: 'condition_failed' }] });
    // A rule without actions answers any action on its types.
    expect(await decide(TODOS, access('can_share', { type: 'list' }), { roles: new Set(['admin']) })).toMatchObject({ allowed: true, rule: { id: 'any-action-admin' } });
    expect(await decide(TODOS, access('can_read', { type: 'note' }), member)).toMatchObject({ allowed: false, trace: [] });
  });

  it('answers an HTTP request by the HTTP rules only', async () => {
    const policy = compileYaml(TODOS);
    const caller = callerContext({ identity: user('alice'), roles: new Set(['member', 'admin']) });
    const evaluation = await evaluatePolicy(policy, { method: 'GET', segments: ['todos', '7'] }, caller);
    expect(evaluation).toMatchObject({ allowed: true, rule: { id: 'http-read' }, params: { id: '7' } });
    expect(evaluation.trace.map((rule) => rule.id)).toEqual(['http-read']);
    // Access rules are kept apart: they are not HTTP rules for coverage, lint or the index.
    expect(policy.rules.map((rule) => rule.id)).toEqual(['http-read']);
    expect(policy.accessRules.map((rule) => rule.id)).toEqual(['read', 'any-action-admin', 'update-own', 'frozen', 'audit-only']);
    expect(policy.resourceTypes).toEqual(['todo', 'list']);
    expect(policy.readsDirectory).toBe(true);
    expect(compileYaml('service: s\nrules:\n  - { id: r, effect: allow, match: { resources: [x] }, when: [{ attribute: { name: subject.id, equals: a } }] }\n').readsDirectory).toBe(false);
  });

  it('binds the resource id as {id} for relation conditions, with the question\'s subject type', async () => {
    const schema = new RelationSchema({ subjectType: 'user', maxDepth: 4, maxReads: 64, types: { todo: { owner: [] } } });
    const policy = compileYaml('service: s\nrules:\n  - { id: own, effect: allow, match: { actions: [edit], resources: [todo] }, when: [{ relation: "todo:{id}#owner" }] }\n', ['test-idp'], 'policy.yaml', { relationSchema: schema });
    const asked: string[] = [];
    const relations: RelationChecker = { check: async (object, relation, subject) => (asked.push(`${object}#${relation}@${subject}`), { ok: subject === 'service:bot' }) };
    const facts = { ...access('edit', { id: '42' }, 'bot'), subject: { type: 'service', id: 'bot' } };
    const question = { kind: 'access' as const, action: 'edit', resourceType: 'todo', resourceId: '42' };
    const evaluation = await evaluatePolicy(policy, question, callerContext({ identity: user('bot'), access: facts, relations }));
    expect(evaluation).toMatchObject({ allowed: true, rule: { id: 'own' } });
    expect(asked).toEqual(['todo:42#owner@service:bot']);
  });

  it('lets an explicit deny win and records a dry-run deny without enforcing it', async () => {
    const owner = { email: 'alice@example.com' };
    const archived = access('can_update', { properties: { ownerID: 'alice@example.com', status: 'archived' } });
    expect(await decide(TODOS, archived, {}, owner)).toMatchObject({ allowed: false, reason: 'explicit_deny', rule: { id: 'frozen' } });
    const open = access('can_update', { properties: { ownerID: 'alice@example.com', status: 'open' } });
    expect(await decide(TODOS, open, {}, owner)).toMatchObject({ allowed: true, rule: { id: 'update-own' } });
    const fromOffice = await decide(TODOS, access('can_read', {}, 'alice', { ip: '10.0.0.1' }), { roles: new Set(['member']) });
    expect(fromOffice).toMatchObject({ allowed: true, rule: { id: 'read' }, dryRunDeny: { id: 'audit-only' } });
    expect(fromOffice.trace.find((rule) => rule.id === 'audit-only')).toMatchObject({ outcome: 'applied', dryRun: true });
  });
});

describe('attribute conditions', () => {
  const policy = (condition: string) => `service: s\nrules:\n  - { id: r, effect: allow, match: { resources: [doc] }, when: [{ attribute: ${condition} }] }\n`;
  const doc = (properties: JsonObject, context: JsonObject = {}) => access('read', { type: 'doc', properties }, 'alice', context);
  async function trace(condition: string, facts: AccessFacts, directory?: JsonObject) {
    const evaluation = await decide(policy(condition), facts, {}, directory);
    return { allowed: evaluation.allowed, failed: evaluation.trace[0]?.failed };
  }

  it('compares with constants: equals, notEquals, in, contains, exists, lessThan, greaterThan', async () => {
    const d = doc({ status: 'draft', level: 3, tags: ['a', 'b'], title: 'quarterly report', count: '3', owner: null });
    const cases: [string, boolean][] = [
      ['{ name: resource.properties.status, equals: draft }', true],
      ['{ name: resource.properties.status, equals: open }', false],
      ['{ name: resource.properties.level, equals: 3 }', true],
      ['{ name: resource.properties.count, equals: 3 }', false], // no coercion: "3" is not 3
      ['{ name: resource.properties.owner, equals: null }', true],
      ['{ name: resource.properties.status, notEquals: open }', true],
      ['{ name: resource.properties.status, in: [draft, open] }', true],
      ['{ name: resource.properties.status, in: [closed] }', false],
      ['{ name: resource.properties.tags, contains: b }', true],
      ['{ name: resource.properties.tags, contains: c }', false],
      ['{ name: resource.properties.title, contains: report }', true],
      ['{ name: resource.properties.status, exists: true }', true],
      ['{ name: resource.properties.missing, exists: false }', true],
      ['{ name: resource.properties.status, exists: false }', false],
      ['{ name: resource.properties.level, lessThan: 5 }', true],
      ['{ name: resource.properties.level, greaterThan: 5 }', false],
      ['{ name: resource.id, equals: "1" }', true],
      ['{ name: resource.type, equals: doc }', true],
      ['{ name: action.name, equals: read }', true],
      ['{ name: subject.id, equals: alice }', true],
      ['{ name: subject.type, equals: user }', true],
    ];
    for (const [condition, expected] of cases) expect((await trace(condition, d)).allowed, condition).toBe(expected);
  });

  it('compares two attributes: the resource owner with the subject\'s directory e-mail, a value in a list attribute', async () => {
    const condition = '{ name: resource.properties.ownerID, equals: { attribute: subject.properties.email } }';
    expect(await trace(condition, doc({ ownerID: 'alice@example.com' }), { email: 'alice@example.com' })).toEqual({ allowed: true, failed: undefined });
    expect(await trace(condition, doc({ ownerID: 'bob@example.com' }), { email: 'alice@example.com' })).toEqual({
      allowed: false,
      failed: 'attribute resource.properties.ownerID ("bob@example.com") does not satisfy equals subject.properties.email ("alice@example.com")',
    });
    expect((await trace('{ name: subject.properties.team, in: { attribute: resource.properties.teams } }', doc({ teams: ['red', 'blue'] }), { team: 'blue' })).allowed).toBe(true);
    expect((await trace('{ name: context.hour, lessThan: { attribute: resource.properties.closesAt } }', doc({ closesAt: 18 }, { hour: 9 }))).allowed).toBe(true);
  });

  it('fails, never throws, on a missing attribute or a type mismatch, and says why', async () => {
    expect(await trace('{ name: resource.properties.owner, notEquals: bob }', doc({}))).toEqual({ allowed: false, failed: 'attribute resource.properties.owner is missing (no "owner")' });
    expect(await trace('{ name: resource.properties.a.b, equals: 1 }', doc({ a: { c: 1 } }))).toEqual({ allowed: false, failed: 'attribute resource.properties.a.b is missing (no "a.b")' });
    expect(await trace('{ name: resource.properties.owner, equals: { attribute: subject.properties.email } }', doc({ owner: 'x' }), undefined)).toEqual({
      allowed: false,
      failed: 'attribute subject.properties.email is missing (the subject directory was not read)',
    });
    const noEntry = await decide(policy('{ name: subject.properties.email, exists: true }'), doc({}), { subjectProperties: async () => undefined });
    expect(noEntry.trace[0]?.failed).toBe('attribute subject.properties.email is missing (subject alice has no properties in the directory)');
    expect(await trace('{ name: resource.properties.level, lessThan: 5 }', doc({ level: 'high' }))).toEqual({
      allowed: false,
      failed: 'attribute resource.properties.level ("high") cannot be compared: lessThan needs two numbers, got a string and a number',
    });
    expect((await trace('{ name: resource.properties.level, in: { attribute: resource.properties.list } }', doc({ level: 1, list: 'x' }))).failed).toMatch(/in needs a list, the operand is a string/);
    expect((await trace('{ name: resource.properties.level, contains: 1 }', doc({ level: 1 }))).failed).toMatch(/contains needs a list \(or a string and a string\), got a number and a number/);
  });

  it('derives the attributes of an HTTP request: the caller, resource route with the path, the method', async () => {
    const http = compileYaml(
      'service: s\nrules:\n  - { id: r, effect: allow, match: { methods: [GET] }, when: [{ attribute: { name: resource.type, equals: route } }, { attribute: { name: resource.id, equals: /a/b } }, { attribute: { name: action.name, equals: GET } }, { attribute: { name: subject.type, equals: user } }] }\n',
    );
    const request = { method: 'GET', path: '/a/b', headers: new Map<string, string>(), clientAddress: undefined };
    expect(await evaluatePolicy(http, { method: 'GET', segments: ['a', 'b'] }, callerContext({ identity: user('alice'), request }))).toMatchObject({ allowed: true });
    const anonymous = await evaluatePolicy(http, { method: 'GET', segments: ['a', 'b'] }, callerContext({ identity: ANONYMOUS, request }));
    expect(anonymous).toMatchObject({ allowed: false, reason: 'authentication_required' });
  });
});

describe('declared actions and caller scope', () => {
  it('lists the actions the access rules name for a type, in the order written', () => {
    const policy = compileYaml(TODOS);
    expect(declaredActions(policy, 'todo')).toEqual(['can_read', 'can_update']);
    expect(declaredActions(policy, 'list')).toEqual([]);
    expect(declaredActions(policy, 'nothing')).toEqual([]);
  });

  it('lets only the callers of authzen.callers ask; nobody without it', () => {
    const policy = compileYaml(`service: s\nauthzen:\n  callers:\n    - { subject: svc-todos }\n    - { issuer: test-idp, subject: ops }\n    - { principal: "spiffe://cluster.local/ns/todos/*" }\n    - { role: pdp-client }\n`);
    const none = new Set<string>();
    expect(mayAsk(policy, user('svc-todos'), none)).toBe(true);
    expect(mayAsk(policy, user('ops'), none)).toBe(true);
    expect(mayAsk(policy, { ...user('ops'), issuer: 'other' }, none)).toBe(false);
    expect(mayAsk(policy, user('someone'), none)).toBe(false);
    expect(mayAsk(policy, user('someone'), new Set(['pdp-client']))).toBe(true);
    const mtls = { authenticated: true as const, subject: 'spiffe://cluster.local/ns/todos/sa/api', issuer: 'mtls', credential: 'mtls' as const, claims: {}, expiresAt: 2e9 };
    expect(mayAsk(policy, mtls, none)).toBe(true);
    expect(mayAsk(policy, { ...mtls, subject: 'spiffe://cluster.local/ns/billing/sa/api' }, none)).toBe(false);
    // A JWT whose subject looks like a SPIFFE ID is not an mTLS identity.
    expect(mayAsk(policy, { ...mtls, credential: 'jwt' }, none)).toBe(false);
    expect(mayAsk(policy, ANONYMOUS, new Set(['pdp-client']))).toBe(false);
    expect(mayAsk(compileYaml('service: s\n'), user('svc-todos'), new Set(['pdp-client']))).toBe(false);
  });

  it('routes a resource type to the one policy naming it', () => {
    const set = new PolicySet([compileYaml(TODOS), compileYaml('service: other\nrules:\n  - { id: r, effect: allow, match: { resources: [note] } }\n')], 'v');
    expect(set.routeResourceType('todo')?.service).toBe('todos');
    expect(set.routeResourceType('note')?.service).toBe('other');
    expect(set.routeResourceType('route')).toBeUndefined();
  });
});
