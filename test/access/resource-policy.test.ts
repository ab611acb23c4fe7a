// policyForResource: the one choice of the policy that answers questions about a resource, which
// the AuthZEN caller scope, the access decider and `keycard test` share; and the decider given the
// policy already found decides as it does when it looks the policy up itself.
import { describe, expect, it } from 'vitest';
import { AccessDecider } from '../../src/access/access-decider.js';
import { policyForResource } from '../../src/access/resource-policy.js';
import type { AccessQuestion } from '../../src/access/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { RelationResolver } from '../../src/policy/relations/resolver.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { compileYaml } from '../helpers/policy.js';

const TODOS = `
service: todos
hosts: [todos.example]
rules:
  - { id: read, effect: allow, match: { methods: [GET] }, when: [{ role: member }] }
  - { id: a-read, effect: allow, match: { actions: [read], resources: [todo] }, when: [{ role: member }] }
`;
const DOCS = `
service: docs
rules:
  - { id: a-read, effect: allow, match: { actions: [read], resources: [doc] }, when: [{ role: member }] }
`;
const set = (version: string) => new PolicySet([compileYaml(TODOS, ['test-idp'], 'todos.yaml'), compileYaml(DOCS, ['test-idp'], 'docs.yaml')], version);
const policies = set('v1');

describe('policyForResource', () => {
  it('finds the policy whose access rules name the type, and a route question by its explicit service', () => {
    expect(policyForResource(policies, { type: 'todo' }).policy?.service).toBe('todos');
    expect(policyForResource(policies, { type: 'doc' }).policy?.service).toBe('docs');
    expect(policyForResource(policies, { type: 'route', properties: { service: 'docs' } }).policy?.service).toBe('docs');
    expect(policyForResource(policies, { type: 'todo' }).policies).toBe(policies);
  });

  it.each([
    [{ type: 'invoice' }, 'unknown_resource_type', 'resource type "invoice"'],
    [{ type: 'route' }, 'unknown_service', 'a route question names its service in resource.properties.service'],
    [{ type: 'route', properties: { service: '' } }, 'unknown_service', 'a route question names its service in resource.properties.service'],
    [{ type: 'route', properties: { service: 7 } }, 'unknown_service', 'a route question names its service in resource.properties.service'],
    [{ type: 'route', properties: { service: 'billing' } }, 'unknown_service', 'service "billing"'],
    // A host is no service: a route question never picks its policy by a host.
    [{ type: 'route', properties: { service: 'todos.example' } }, 'unknown_service', 'service "todos.example"'],
  ])('finds none for %j: %s', (resource, reason, detail) => {
    expect(policyForResource(policies, resource)).toEqual({ policies, policy: undefined, reason, detail });
  });
});

describe('AccessDecider given the policy found', () => {
  const store = new MemoryStore([{ subject: 'alice', role: 'member' }], [], Date.now);
  const relations = new RelationResolver(store, new RelationSchema({ subjectType: 'user', maxDepth: 4, maxReads: 64, types: {} }));
  const question = (type: string, properties?: Record<string, string>, action = 'read'): AccessQuestion => ({
    subject: { type: 'user', id: 'alice' },
    action: { name: action },
    resource: { type, id: '1', ...(properties && { properties }) },
  });
  const essence = ({ allowed, reason, ruleId, service, policyVersion, detail }: Awaited<ReturnType<AccessDecider['decide']>>) => ({ allowed, reason, ruleId, service, policyVersion, detail });

  it('decides every question as it decides when it looks the policy up itself', async () => {
    const access = new AccessDecider({ policies: () => policies, store, relations });
    for (const q of [question('todo'), question('doc'), question('invoice'), question('route', { service: 'todos' }, 'GET'), question('route', undefined, 'GET'), question('route', { service: 'nope' }, 'GET'), question('route', { service: 'nope' }, 'get')]) {
      const looked = await access.decide(q);
      const given = await access.decide(q, undefined, policyForResource(policies, q.resource));
      expect(essence(given), JSON.stringify(q.resource)).toEqual(essence(looked));
    }
  });

  it('decides with the set the policy was found in, not one loaded since', async () => {
    let current = policies;
    const access = new AccessDecider({ policies: () => current, store, relations });
    const found = policyForResource(current, { type: 'todo' });
    current = set('v2');
    expect(await access.decide(question('todo'), undefined, found)).toMatchObject({ allowed: true, policyVersion: 'v1' });
    expect(await access.decide(question('todo'))).toMatchObject({ allowed: true, policyVersion: 'v2' });
  });
});
