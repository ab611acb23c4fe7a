// `relation:` conditions end to end in-process: compiled against the relation schema, decided by
// the resolver over the memory store, explained with the chain, and failing closed.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../src/authn/identity.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { PolicySet } from '../../../src/policy/policy-set.js';
import { RelationResolver } from '../../../src/policy/relations/resolver.js';
import { RelationSchema } from '../../../src/policy/relations/schema.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import { configError } from '../../helpers/config-error.js';
import { authzInput, fixedIdentity, pipelineWith } from '../../helpers/pipeline.js';
import { callerContext, compileYaml, user } from '../../helpers/policy.js';
import { ORDER_RELATION_RULES, ORDER_RELATION_TYPES, ORDER_TUPLES, tuples } from '../../helpers/relations.js';

const SCHEMA = new RelationSchema({ subjectType: 'user', maxDepth: 8, maxReads: 256, types: ORDER_RELATION_TYPES });

const POLICY = `
service: orders
${ORDER_RELATION_RULES}`;

function store(): MemoryStore {
  return new MemoryStore([{ subject: 'sam', role: 'support' }], tuples(ORDER_TUPLES));
}

const policy = compileYaml(POLICY, [], 'orders.yaml', { relationSchema: SCHEMA });

function decide(path: string, subject?: string, roles: string[] = [], relations = new RelationResolver(store(), SCHEMA)) {
  return evaluatePolicy(
    policy,
    { method: 'GET', segments: path.split('/').filter(Boolean) },
    callerContext({ identity: subject ? user(subject) : ANONYMOUS, roles: new Set(roles), relations }),
  );
}

function compileErrors(text: string, schema?: RelationSchema): string[] {
  return configError(() => compileYaml(text, [], 'orders.yaml', schema ? { relationSchema: schema } : {}), 'policy compiled without error').message.split('\n');
}

describe('relation condition', () => {
  it('allows the owner of the order named in the path, recording the chain', async () => {
    const result = await decide('/orders/42', 'alice');
    expect(result).toMatchObject({ allowed: true, rule: { id: 'read-own-order' }, params: { id: '42' } });
    expect(result.trace).toContainEqual({
      id: 'read-own-order',
      effect: 'allow',
      outcome: 'applied',
      chain: ['user:alice', 'order:42#owner', 'order:42#viewer'],
    });
  });

  it('allows a manager through the order\'s shop', async () => {
    const result = await decide('/orders/43', 'olga');
    expect(result.allowed).toBe(true);
    expect(result.trace.find((rule) => rule.id === 'read-own-order')?.chain).toEqual([
      'user:olga',
      'group:staff#member',
      'shop:9#owner',
      'order:43#manager',
      'order:43#viewer',
    ]);
  });

  it('denies someone else\'s order and says why', async () => {
    const result = await decide('/orders/43', 'alice');
    expect(result).toMatchObject({ allowed: false, reason: 'no_matching_rule' });
    expect(result.trace).toContainEqual({ id: 'read-own-order', effect: 'allow', outcome: 'condition_failed', failed: 'user:alice is not viewer of order:43' });
  });

  it('leaves role rules as they were: support reads every order', async () => {
    expect(await decide('/orders/43', 'sam', ['support'])).toMatchObject({ allowed: true, rule: { id: 'support-read' } });
  });

  it('asks an anonymous caller to authenticate', async () => {
    expect(await decide('/orders/42')).toMatchObject({ allowed: false, reason: 'authentication_required' });
  });

  it('sees tuple changes at once', async () => {
    const live = store();
    const relations = new RelationResolver(live, SCHEMA);
    expect((await decide('/orders/44', 'carol', [], relations)).allowed).toBe(false);
    await live.addTuple({ object: 'order:44', relation: 'owner', subject: 'user:carol' });
    expect((await decide('/orders/44', 'carol', [], relations)).allowed).toBe(true);
    await live.removeTuple({ object: 'order:44', relation: 'owner', subject: 'user:carol' });
    expect((await decide('/orders/44', 'carol', [], relations)).allowed).toBe(false);
  });

  it('denies with store_unavailable (503) in the pipeline when the store fails', async () => {
    class BrokenTuples extends MemoryStore {
      override readonly kind = 'broken';
      override subjectsOf(): Promise<readonly string[]> {
        return Promise.reject(new Error('connection reset'));
      }
    }
    const broken = new BrokenTuples();
    const pipeline = pipelineWith({
      policies: () => new PolicySet([policy], 'v1'),
      authenticator: fixedIdentity(user('alice')),
      store: broken,
      relations: new RelationResolver(broken, SCHEMA),
      limits: { maxHeaders: 10, maxHeaderBytes: 1000 },
    });
    const decision = await pipeline.decide(authzInput('orders', '/orders/42'));
    expect(decision).toMatchObject({ allowed: false, status: 503, reason: 'store_unavailable', detail: 'broken store: connection reset' });
  });
});

describe('relation limits fail closed', () => {
  // A group nested deeper than maxDepth: the resolver cannot tell whether bob is blocked.
  const deepSchema = new RelationSchema({ subjectType: 'user', maxDepth: 2, maxReads: 256, types: { group: { member: [] }, doc: { blocked: [] } } });
  const deepStore = new MemoryStore(
    [],
    tuples(['doc:1#blocked@group:g0#member', 'group:g0#member@group:g1#member', 'group:g1#member@group:g2#member', 'group:g2#member@user:bob']),
  );
  const relations = new RelationResolver(deepStore, deepSchema);

  it.each([
    ['inside not', '  - { id: guard, effect: allow, match: { paths: ["/docs/{id}"] }, when: [{ not: { relation: "doc:{id}#blocked" } }] }'],
    ['in a deny rule', '  - { id: open, effect: allow, match: { paths: ["/docs/**"] } }\n  - { id: guard, effect: deny, match: { paths: ["/docs/{id}"] }, when: [{ relation: "doc:{id}#blocked" }] }'],
  ])('denies the request when a relation %s cannot be decided', async (_where, rules) => {
    const text = `service: docs\nrules:\n${rules}\n`;
    const guarded = compileYaml(text, [], 'docs.yaml', { relationSchema: deepSchema });
    const pipeline = pipelineWith({ policies: () => new PolicySet([guarded], 'v1'), authenticator: fixedIdentity(user('bob')), store: deepStore, relations });
    const decision = await pipeline.decide(authzInput('docs', '/docs/1', { host: '' }));
    expect(decision).toMatchObject({ allowed: false, status: 403, reason: 'relation_limit_reached' });
    expect(decision.detail).toContain('depth limit 2 reached');
  });
});

describe('relation condition at load', () => {
  const rule = (relation: string) => `
service: orders
rules:
  - id: r
    effect: allow
    match: { paths: ["/orders/{id}"] }
    when: [{ relation: "${relation}" }]
`;

  it('is an unknown_relation error without a relation schema', () => {
    expect(compileErrors(rule('order:{id}#owner'))).toEqual([
      'orders.yaml:7:24 [unknown_relation] rules[0].when[0].relation: relation "order#owner" is not declared in the relation schema',
    ]);
  });

  it('is an unknown_relation error for a type or relation the schema does not declare', () => {
    expect(compileErrors(rule('order:{id}#buyer'), SCHEMA)).toEqual([
      'orders.yaml:7:24 [unknown_relation] rules[0].when[0].relation: relation "order#buyer" is not declared in the relation schema',
    ]);
    expect(compileErrors(rule('invoice:{id}#owner'), SCHEMA)).toEqual([
      'orders.yaml:7:24 [unknown_relation] rules[0].when[0].relation: relation "invoice#owner" is not declared in the relation schema',
    ]);
  });

  it('compiles declared relations, with a literal id too', () => {
    expect(compileYaml(rule('order:{id}#viewer'), [], 'orders.yaml', { relationSchema: SCHEMA }).rules).toHaveLength(1);
    expect(compileYaml(rule('shop:9#owner'), [], 'orders.yaml', { relationSchema: SCHEMA }).rules).toHaveLength(1);
  });
});
