// The shadow evaluator in process, behind the real pipeline (a real JWT authenticator, real
// stores) and, for latency, the real gRPC server: what it compares, counts and audits, and that
// the enforced answer never waits for it.
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDecider } from '../../src/access/access-decider.js';
import type { ShadowDisagreementRecord } from '../../src/audit/audit-log.js';
import type { Authenticator } from '../../src/authn/authenticator.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import type { RelationChecker } from '../../src/policy/conditions/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { RelationResolver } from '../../src/policy/relations/resolver.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import { GrpcServer } from '../../src/server/grpc-server.js';
import type { Comparison } from '../../src/shadow/compare.js';
import { ShadowEvaluator } from '../../src/shadow/shadow-evaluator.js';
import { ShadowMetrics, type EvaluationResult } from '../../src/shadow/shadow-metrics.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { ControlledStore } from '../helpers/controlled-store.js';
import { makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { authzInput, NO_RELATIONS, pipelineWith, testAuthenticator } from '../helpers/pipeline.js';
import { compileYaml } from '../helpers/policy.js';
import { ORDER_RELATION_TYPES, ORDER_TUPLES, tuples } from '../helpers/relations.js';
import { Workspace } from '../helpers/workspace.js';

const SCHEMA = new RelationSchema({ subjectType: 'user', maxDepth: 8, maxReads: 256, types: ORDER_RELATION_TYPES });

const ORDERS = `
service: orders
authentication: { issuers: [test-idp] }
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }] }
  - { id: legacy-off, effect: deny, match: { paths: ["/v1/**"] } }
`;

const set = (version: string, ...texts: string[]) => new PolicySet(texts.map((text, i) => compileYaml(text, ['test-idp'], `p${i}.yaml`, { relationSchema: SCHEMA })), version);
const ENFORCED = set('enforced', ORDERS);

let workspace: Workspace;
let key: TestKey;
let authenticator: Authenticator;

beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace();
  authenticator = await testAuthenticator(workspace, key);
});
afterAll(() => workspace.remove());

interface Evaluated {
  readonly result: EvaluationResult;
  readonly comparison?: Comparison;
}

interface Fixture {
  readonly pipeline: Pipeline;
  readonly evaluator: ShadowEvaluator;
  readonly registry: Registry;
  readonly store: ControlledStore;
  readonly audited: ShadowDisagreementRecord[];
  readonly evaluated: Evaluated[];
  /** Resolves once `count` evaluations have finished. */
  settled(count: number): Promise<readonly Evaluated[]>;
  metric(name: string): Promise<string>;
}

function fixture(candidate: PolicySet | undefined, options: { enforced?: PolicySet; relations?: RelationChecker; maxInFlight?: number } = {}): Fixture {
  const registry = new Registry();
  const audited: ShadowDisagreementRecord[] = [];
  const evaluated: Evaluated[] = [];
  const store = new ControlledStore(new MemoryStore([{ subject: 'alice', role: 'customer' }], tuples(ORDER_TUPLES)));
  const evaluator: ShadowEvaluator = new ShadowEvaluator({
    candidate: () => candidate,
    store,
    relations: options.relations ?? new RelationResolver(store, SCHEMA),
    limits: { maxHeaders: 100, maxHeaderBytes: 10_000 },
    maxInFlight: options.maxInFlight ?? 1000,
    metrics: new ShadowMetrics(registry, { version: () => candidate?.version, inFlight: () => evaluator.inFlight }),
    audit: (record) => audited.push(record),
    logger: pino({ level: 'silent' }),
    onEvaluated: (result, comparison) => evaluated.push({ result, ...(comparison && { comparison }) }),
  });
  const pipeline = pipelineWith({ policies: () => options.enforced ?? ENFORCED, authenticator, store, relations: NO_RELATIONS, shadow: evaluator.schedule });
  return {
    pipeline,
    evaluator,
    registry,
    store,
    audited,
    evaluated,
    async settled(count) {
      const deadline = Date.now() + 5_000;
      while (evaluated.length < count) {
        if (Date.now() > deadline) throw new Error(`${evaluated.length} of ${count} shadow evaluations finished`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return evaluated;
    },
    metric: async (name) => (await registry.getSingleMetricAsString(name)).split('\n').filter((line) => !line.startsWith('#')).join('\n'),
  };
}

async function asAlice(path: string, service = 'orders') {
  return authzInput(service, path, { headers: new Map([['authorization', `Bearer ${await signToken(key, { sub: 'alice' })}`]]) });
}

describe('shadow evaluation', () => {
  it('agrees with an identical candidate: counted, not audited', async () => {
    const f = fixture(set('same', ORDERS));
    const decision = await f.pipeline.decide(await asAlice('/orders/1'));
    expect(decision.allowed).toBe(true);
    const [evaluated] = await f.settled(1);
    expect(evaluated?.result).toBe('agree');
    expect(f.audited).toEqual([]);
    expect(await f.metric('keycard_shadow_evaluations_total')).toBe('keycard_shadow_evaluations_total{service="orders",result="agree"} 1');
    expect(await f.metric('keycard_shadow_disagreements_total')).toBe('');
  });

  it('counts and audits a disagreement with both rule ids, for the enforced caller and roles', async () => {
    const stricter = ORDERS.replace('{ id: read,', '{ id: read-support,').replace('role: customer', 'role: support');
    const f = fixture(set('next', stricter));
    const decision = await f.pipeline.decide(await asAlice('/orders/1'));
    expect(decision).toMatchObject({ allowed: true, ruleId: 'read' });
    await f.settled(1);
    expect(f.evaluated[0]?.result).toBe('disagree');
    expect(await f.metric('keycard_shadow_disagreements_total')).toBe('keycard_shadow_disagreements_total{service="orders",enforced="allow",shadow="deny",rule="_none"} 1');
    expect(f.audited).toHaveLength(1);
    const record = f.audited[0]!;
    expect(record.decision.id).toBe(decision.id);
    expect(record.enforced).toEqual({ decision: 'allow', reason: 'allowed', rule: 'read' });
    expect(record.shadow).toMatchObject({ decision: 'deny', reason: 'no_matching_rule', rule: undefined, service: 'orders', policyVersion: 'next' });
    expect(record.shadow.detail).toContain('read-support');
    // The caller was authenticated once and its roles read once: by the enforced pipeline.
    expect(f.store.calls.rolesFor).toBe(1);
    expect(f.store.calls.revocationFor).toBe(1);
  });

  it('names the rule of a candidate that allows by another rule', async () => {
    const f = fixture(set('renamed', ORDERS.replace('{ id: read,', '{ id: read-v2,')));
    await f.pipeline.decide(await asAlice('/orders/1'));
    await f.settled(1);
    expect(await f.metric('keycard_shadow_disagreements_total')).toBe('keycard_shadow_disagreements_total{service="orders",enforced="allow",shadow="allow",rule="read-v2"} 1');
    expect(f.audited[0]?.shadow.rule).toBe('read-v2');
  });

  it('treats a service missing from the candidate as a deny for unknown_service', async () => {
    const other = `service: billing\nrules:\n  - { id: any, effect: allow, anonymous: true }\n`;
    const f = fixture(set('without-orders', other));
    await f.pipeline.decide(await asAlice('/orders/1'));
    await f.settled(1);
    expect(f.audited[0]?.shadow).toMatchObject({ decision: 'deny', reason: 'unknown_service', rule: undefined, service: undefined });
    expect(await f.metric('keycard_shadow_disagreements_total')).toBe('keycard_shadow_disagreements_total{service="orders",enforced="allow",shadow="deny",rule="_none"} 1');
  });

  it('reports as unevaluated a request the candidate routes but the enforced set never authenticated', async () => {
    const billing = `service: billing\nrules:\n  - { id: pay, effect: allow, when: [{ role: customer }] }\n`;
    const f = fixture(set('with-billing', ORDERS, billing));
    const decision = await f.pipeline.decide(await asAlice('/pay', 'billing'));
    expect(decision.reason).toBe('unknown_service');
    await f.settled(1);
    expect(f.evaluated[0]?.result).toBe('unevaluated');
    expect(f.audited).toEqual([]);
    expect(await f.metric('keycard_shadow_evaluations_total')).toBe('keycard_shadow_evaluations_total{service="billing",result="unevaluated"} 1');
  });

  it('meets the enforced identity failure without authenticating again', async () => {
    const f = fixture(set('same', ORDERS));
    const expired = authzInput('orders', '/orders/1', { headers: new Map([['authorization', `Bearer ${await signToken(key, { expiresIn: -3600 })}`]]) });
    const decision = await f.pipeline.decide(expired);
    expect(decision.reason).toBe('token_expired');
    await f.settled(1);
    expect(f.evaluated[0]).toMatchObject({ result: 'agree', comparison: { shadow: { verdict: 'deny', reason: 'token_expired' } } });
  });

  it('compares dry-run by what was done: a candidate that enforces it disagrees', async () => {
    const dryRun = ORDERS.replace('service: orders', 'service: orders\nmode: dry-run');
    const f = fixture(set('enforcing', ORDERS), { enforced: set('dry', dryRun) });
    const decision = await f.pipeline.decide(authzInput('orders', '/orders/1'));
    expect(decision.dryRun?.reason).toBe('authentication_required');
    await f.settled(1);
    expect(f.audited[0]?.enforced).toEqual({ decision: 'dry_run_deny', reason: 'allowed', rule: undefined });
    expect(f.audited[0]?.shadow).toMatchObject({ decision: 'deny', reason: 'authentication_required' });
  });

  it('counts an error, and touches nothing, while no candidate is loaded', async () => {
    const f = fixture(undefined);
    expect((await f.pipeline.decide(await asAlice('/orders/1'))).allowed).toBe(true);
    await f.settled(1);
    expect(await f.metric('keycard_shadow_evaluations_total')).toBe('keycard_shadow_evaluations_total{service="orders",result="error"} 1');
  });

  it('drops evaluations past maxInFlight instead of queueing them', async () => {
    const relationRules = ORDERS.replace('when: [{ role: customer }]', 'when: [{ relation: "order:{id}#viewer" }]');
    const slow = new ControlledStore(new MemoryStore([], tuples(ORDER_TUPLES)));
    const f = fixture(set('relations', relationRules), { maxInFlight: 2, relations: new RelationResolver(slow, SCHEMA) });
    const release = slow.hold();
    for (let i = 0; i < 5; i++) expect((await f.pipeline.decide(await asAlice('/orders/42'))).allowed).toBe(true);
    await f.settled(3);
    expect(f.evaluated.map((e) => e.result)).toEqual(['dropped', 'dropped', 'dropped']);
    expect(f.evaluator.inFlight).toBe(2);
    expect(await f.metric('keycard_shadow_in_flight')).toBe('keycard_shadow_in_flight 2');
    release();
    await f.settled(5);
    expect(f.evaluated.slice(3).map((e) => e.result)).toEqual(['agree', 'agree']);
    expect(f.evaluator.inFlight).toBe(0);
  });
});

describe('shadow evaluation behind the gRPC server', () => {
  it('answers the Check while the candidate is still waiting on a slow store', async () => {
    const relationRules = ORDERS.replace('{ id: read,', '{ id: read-own,').replace('when: [{ role: customer }]', 'when: [{ relation: "order:{id}#viewer" }]');
    // The enforced pipeline reads a memory store; the candidate's relation reads go to a store held until released.
    const slow = new ControlledStore(new MemoryStore([], tuples(ORDER_TUPLES)));
    const f = fixture(set('relations', relationRules), { relations: new RelationResolver(slow, SCHEMA) });
    const server = new GrpcServer({ listen: { host: '127.0.0.1', port: 0 }, maxMessageBytes: 1 << 20, pipeline: f.pipeline, logger: pino({ level: 'silent' }) });
    const port = await server.start();
    const client = createCheckClient(`127.0.0.1:${port}`);
    const release = slow.hold();
    try {
      const token = await signToken(key, { sub: 'alice' });
      const started = performance.now();
      const response = await check(client, buildCheckRequest({ service: 'orders', path: '/orders/43', headers: { authorization: `Bearer ${token}` } }), 2_000);
      const elapsedMs = performance.now() - started;
      expect(response.status?.code).toBe(0);
      // Answered while the shadow evaluation was still waiting for the store.
      await slow.taken();
      expect(f.evaluator.inFlight).toBe(1);
      expect(f.evaluated).toEqual([]);
      expect(elapsedMs).toBeLessThan(1_000);
      release();
      const [evaluated] = await f.settled(1);
      // alice may not view order 43 (olga's shop's): the candidate would deny what is enforced as allowed.
      expect(evaluated?.result).toBe('disagree');
      expect(f.audited[0]?.enforced.rule).toBe('read');
      expect(f.audited[0]?.shadow).toMatchObject({ decision: 'deny', reason: 'no_matching_rule' });
    } finally {
      release();
      client.close();
      await server.stop(1_000);
    }
  });
});

describe('shadow evaluation of access questions (AuthZEN)', () => {
  const DOCS = `
service: docs
rules:
  - { id: read-docs, effect: allow, match: { actions: [can_read], resources: [document] }, when: [{ role: customer }] }
`;
  const question = (subject: string, resourceType = 'document') => ({ subject: { type: 'user', id: subject }, action: { name: 'can_read' }, resource: { type: resourceType, id: 'd-1' }, requestId: 'rq-9' });

  function accessFixture(candidate: PolicySet) {
    const f = fixture(candidate, { enforced: set('enforced', ORDERS, DOCS) });
    const decider = new AccessDecider({ policies: () => set('enforced', ORDERS, DOCS), store: f.store, relations: NO_RELATIONS, shadow: f.evaluator.scheduleAccess });
    return { ...f, decider };
  }

  it('agrees with an identical candidate, and reads the roles once', async () => {
    const f = accessFixture(set('same', ORDERS, DOCS));
    expect((await f.decider.decide(question('alice'))).allowed).toBe(true);
    const [evaluated] = await f.settled(1);
    expect(evaluated?.result).toBe('agree');
    expect(f.audited).toEqual([]);
    expect(f.store.calls.rolesFor).toBe(1);
  });

  it('counts and audits a disagreement, naming the question and both rules', async () => {
    const f = accessFixture(set('next', ORDERS, DOCS.replace('role: customer', 'role: support').replace('read-docs', 'read-docs-support')));
    const decision = await f.decider.decide(question('alice'));
    expect(decision).toMatchObject({ allowed: true, ruleId: 'read-docs' });
    await f.settled(1);
    expect(await f.metric('keycard_shadow_disagreements_total')).toBe('keycard_shadow_disagreements_total{service="docs",enforced="allow",shadow="deny",rule="_none"} 1');
    const record = f.audited[0]!;
    expect(record.question).toMatchObject({ subject: { id: 'alice' }, resource: { type: 'document' } });
    expect(record.input).toBeUndefined();
    expect(record.enforced).toEqual({ decision: 'allow', reason: 'allowed', rule: 'read-docs' });
    expect(record.shadow).toMatchObject({ decision: 'deny', service: 'docs', policyVersion: 'next' });
  });

  it('decides a resource type only the candidate knows with the roles from the store', async () => {
    const reports = `service: reports\nrules:\n  - { id: read-reports, effect: allow, match: { actions: [can_read], resources: [report] }, when: [{ role: customer }] }\n`;
    const f = accessFixture(set('with-reports', ORDERS, DOCS, reports));
    expect((await f.decider.decide(question('alice', 'report'))).reason).toBe('unknown_resource_type');
    await f.settled(1);
    expect(f.evaluated[0]).toMatchObject({ result: 'disagree', comparison: { shadow: { verdict: 'allow', rule: 'read-reports' } } });
  });
});
