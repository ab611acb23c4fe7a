// Rules that name the operations of the service's API description (`match.operations`) or the
// permissions its operations declare (`match.permissions`): they resolve at load time to exact
// (method, path template) routes, match exactly those, and grant the permission names in the
// permissions header. Unknown names and mixed forms are located load errors.
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/authn/identity.js';
import { formatConfigIssue } from '../../src/errors.js';
import { normalizePath } from '../../src/pipeline/normalize.js';
import type { Decision } from '../../src/pipeline/types.js';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { permissionsFor } from '../../src/policy/permissions.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { findShadowedRules, matchCovers, conditionKey } from '../../src/policy/shadowing.js';
import type { CompiledPolicy } from '../../src/policy/types.js';
import { planResponse } from '../../src/protocol/decision-response.js';
import { loadApiDescription } from '../../src/registry/openapi.js';
import type { ApiDescription } from '../../src/registry/types.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { configError } from '../helpers/config-error.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { callerContext, compileYaml, user } from '../helpers/policy.js';

/** The policy "file" sits beside the fixtures, so `api.openapi` resolves against that directory. */
const POLICY_FILE = 'test/fixtures/openapi/orders.policy.yaml';
const DOCUMENT = 'test/fixtures/openapi/orders-3.0/openapi.yaml';
const HEAD = `service: orders\napi: { openapi: orders-3.0/openapi.yaml }\n`;

let orders: ApiDescription;
beforeAll(async () => {
  orders = await loadApiDescription(DOCUMENT);
});

function compile(text: string): CompiledPolicy {
  const relationSchema = { hasRelation: () => true, subjectType: 'user' };
  return compileYaml(text, ['test-idp'], POLICY_FILE, { apiDescriptions: new Map([[resolve(DOCUMENT), orders]]), relationSchema });
}

function errors(text: string): string[] {
  return configError(() => compile(text), 'the policy loaded without error').issues.map(formatConfigIssue);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const PATHS = ['/api/v1/orders', '/api/v1/orders/42', '/api/v1/orders/42/refund', '/api/v1/orders/42/items', '/orders/42', '/healthz', '/internal/reports', '/api/v2/orders/42'];

/** Every "METHOD path" of METHODS × PATHS that the policy allows for an authenticated caller. */
async function allowed(policy: CompiledPolicy): Promise<string[]> {
  const out: string[] = [];
  for (const method of METHODS) {
    for (const path of PATHS) {
      const normalized = normalizePath(path);
      if (!normalized.ok) throw new Error(path);
      const caller = callerContext({ identity: user('u'), request: { method, path, headers: new Map(), clientAddress: undefined } });
      const evaluation = await evaluatePolicy(policy, { method, segments: normalized.segments }, caller);
      if (evaluation.allowed) out.push(`${method} ${path}`);
    }
  }
  return out;
}

describe('match.operations', () => {
  it('resolves operationIds to the routes of the description, base path included', () => {
    const policy = compile(`${HEAD}rules:\n  - { id: r, effect: allow, match: { operations: [getOrder, refundOrder] } }\n`);
    const rule = policy.rules[0]!;
    expect(rule.operations).toEqual(['getOrder', 'refundOrder']);
    expect(rule.permissions).toBeUndefined();
    expect([...rule.routes!].map(([method, templates]) => `${method} ${templates.map((t) => t.source).join(' ')}`)).toEqual([
      'GET /api/v1/orders/{id}',
      'POST /api/v1/orders/{id}/refund',
    ]);
    expect(policy.api).toBe(orders);
  });

  it('allows exactly those method + path pairs, not every method with every path', async () => {
    const policy = compile(`${HEAD}rules:\n  - { id: r, effect: allow, match: { operations: [getOrder, refundOrder] } }\n`);
    // methods × paths would also allow POST /api/v1/orders/42 and GET /api/v1/orders/42/refund.
    expect(await allowed(policy)).toEqual(['GET /api/v1/orders/42', 'POST /api/v1/orders/42/refund']);
  });

  it('binds the path parameters of the operation for conditions', async () => {
    const policy = compile(`${HEAD}rules:\n  - { id: r, effect: allow, match: { operations: [deleteOrder] }, when: [{ relation: "order:{id}#owner" }] }\n`);
    const seen: string[] = [];
    const caller = callerContext({
      identity: user('u'),
      relations: {
        check: async (object) => {
          seen.push(object);
          return { ok: true };
        },
      },
    });
    const evaluation = await evaluatePolicy(policy, { method: 'DELETE', segments: ['api', 'v1', 'orders', '42'] }, caller);
    expect(evaluation.allowed).toBe(true);
    expect(evaluation.params).toEqual({ id: '42' });
    expect(seen).toEqual(['order:42']);
  });

  it('keeps other rules as they are: deny rules and methods/paths rules mix with operations', async () => {
    const policy = compile(
      `${HEAD}rules:\n  - { id: ops, effect: allow, match: { operations: [listOrders, createOrder] } }\n  - { id: no-create, effect: deny, match: { methods: [POST] } }\n  - { id: probe, effect: allow, match: { methods: [HEAD], paths: ["/api/v1/**"] } }\n`,
    );
    expect(await allowed(policy)).toEqual(['GET /api/v1/orders', 'HEAD /api/v1/orders', 'HEAD /api/v1/orders/42', 'HEAD /api/v1/orders/42/refund', 'HEAD /api/v1/orders/42/items']);
  });

  it('offers the rule as a candidate only for its routes’ methods and first segments', () => {
    const policy = compile(`${HEAD}rules:\n  - { id: r, effect: allow, match: { operations: [getOrder, health] } }\n`);
    const ids = (method: string, segments: string[]) => policy.index.candidates(method, segments).map((rule) => rule.id);
    expect(ids('GET', ['api', 'v1', 'orders', '42'])).toEqual(['r']);
    expect(ids('GET', ['healthz'])).toEqual(['r']);
    expect(ids('DELETE', ['api', 'v1', 'orders', '42'])).toEqual([]);
    expect(ids('GET', ['orders', '42'])).toEqual([]);
  });
});

describe('match.permissions', () => {
  it('matches every operation that declares one of the permissions, exactly', async () => {
    const policy = compile(`${HEAD}rules:\n  - { id: writers, effect: allow, match: { permissions: [orders.write] } }\n`);
    expect(policy.rules[0]!.permissions).toEqual(['orders.write']);
    expect(await allowed(policy)).toEqual(['POST /api/v1/orders', 'DELETE /api/v1/orders/42']);
  });

  it('grants the permission names in the permissions header, not the rule id', async () => {
    const policy = compile(
      `${HEAD}forward: { permissionsHeader: true }\nrules:\n  - { id: readers, effect: allow, match: { permissions: [orders.read] }, when: [{ role: customer }] }\n  - { id: staff, effect: allow, match: { permissions: [orders.write, orders.refund] }, when: [{ role: staff }] }\n  - { id: health, effect: allow, match: { operations: [health] }, anonymous: true }\n`,
    );
    const held = (roles: string[]) => permissionsFor(policy, callerContext({ identity: user('u'), roles: new Set(roles) }), {});
    expect(await held(['customer'])).toEqual(['health', 'orders.read']);
    expect(await held(['staff'])).toEqual(['health', 'orders.refund', 'orders.write']);
    expect(await held(['customer', 'staff'])).toEqual(['health', 'orders.read', 'orders.refund', 'orders.write']);
  });

  it('sends them in x-keycard-permissions on an allowed request', async () => {
    const policy = compile(
      `${HEAD}forward: { permissionsHeader: true }\nrules:\n  - { id: readers, effect: allow, match: { permissions: [orders.read] }, when: [{ role: customer }] }\n  - { id: refunds, effect: allow, match: { permissions: [orders.refund] }, when: [{ role: finance }] }\n`,
    );
    const store = new MemoryStore([
      { subject: 'fiona', role: 'customer' },
      { subject: 'fiona', role: 'finance' },
    ]);
    const decide = (identity: Identity, path: string, method: string): Promise<Decision> =>
      pipelineWith({ policies: () => new PolicySet([policy], 'v1'), authenticator: fixedIdentity(identity), store }).decide(authzInput('orders', path, { method }));
    const decision = await decide(user('fiona'), '/api/v1/orders/42', 'GET');
    expect(decision.allowed).toBe(true);
    expect(planResponse(decision, new Map()).headers.find(([name]) => name === 'x-keycard-permissions')?.[1]).toBe('orders.read,orders.refund');
  });
});

describe('load errors', () => {
  const at = (line: number, column: number) => `${POLICY_FILE}:${line}:${column}`;

  it('names the policy file, line and column, and the unknown operationId', () => {
    expect(errors(`${HEAD}rules:\n  - id: r\n    effect: allow\n    match: { operations: [getOrder, getOrdr] }\n`)).toEqual([
      `${at(6, 37)} [unknown_operation] rules[0].match.operations[1]: operation "getOrdr" is not in ${DOCUMENT} (operationIds: createOrder, deleteOrder, getOrder, health, listOrders, listReports, refundOrder)`,
    ]);
  });

  it('names an unknown permission', () => {
    expect(errors(`${HEAD}rules:\n  - { id: r, effect: allow, match: { permissions: [orders.delete] } }\n`)).toEqual([
      `${at(4, 52)} [unknown_permission] rules[0].match.permissions[0]: no operation in ${DOCUMENT} has "x-keycard-permission: orders.delete" (declared: orders.read, orders.refund, orders.write)`,
    ]);
  });

  it('refuses operations or permissions together with methods or paths', () => {
    expect(errors(`${HEAD}rules:\n  - { id: r, effect: allow, match: { operations: [getOrder], methods: [GET], paths: [/x] } }\n`)).toEqual([
      `${at(4, 71)} [invalid_value] rules[0].match.methods: match.operations already fixes the methods and paths of the rule (from the API description): remove match.methods, or write another rule for other requests`,
      `${at(4, 85)} [invalid_value] rules[0].match.paths: match.operations already fixes the methods and paths of the rule (from the API description): remove match.paths, or write another rule for other requests`,
    ]);
    expect(errors(`${HEAD}rules:\n  - { id: r, effect: allow, match: { permissions: [orders.read], paths: [/x] } }\n`)).toEqual([
      `${at(4, 73)} [invalid_value] rules[0].match.paths: match.permissions already fixes the methods and paths of the rule (from the API description): remove match.paths, or write another rule for other requests`,
    ]);
  });

  it('refuses operations and permissions in one rule', () => {
    expect(errors(`${HEAD}rules:\n  - { id: r, effect: allow, match: { operations: [getOrder], permissions: [orders.read] } }\n`)).toEqual([
      `${at(4, 75)} [invalid_value] rules[0].match.permissions: a rule matches by match.operations or by match.permissions, not both: write two rules`,
    ]);
  });

  it('refuses operations or permissions in a policy without api:', () => {
    expect(errors('service: orders\nrules:\n  - { id: r, effect: allow, match: { operations: [getOrder] } }\n')).toEqual([
      `${at(3, 50)} [missing_key] rules[0].match.operations: match.operations names operations of the service's API description: add "api: { openapi: FILE }" to the policy`,
    ]);
  });

  it('refuses a permission: key on a rule that grants match.permissions (it would be ignored)', () => {
    expect(errors(`${HEAD}rules:\n  - { id: r, effect: allow, permission: x, match: { permissions: [orders.read] } }\n`)).toEqual([
      `${at(4, 41)} [invalid_value] rules[0].permission: a rule with match.permissions grants exactly those permissions: remove "permission"`,
    ]);
  });

  it('refuses api: where no description was loaded (the synchronous loader)', () => {
    const messages = configError(() => compileYaml(`${HEAD}rules: []\n`, ['test-idp'], POLICY_FILE), 'loaded').issues.map(formatConfigIssue);
    expect(messages).toEqual([`${at(2, 17)} [invalid_api_description] api.openapi: this loader does not read API descriptions (keycard loads them with loadPolicySet)`]);
  });
});

describe('shadowing with routes', () => {
  const shadowRules = (text: string) => {
    const policy = compile(text);
    return policy.rules.map((rule) => ({ ...rule, conditions: [conditionKey({ role: ['customer'] })] }));
  };

  it('sees a methods/paths rule shadowed by an earlier operations rule that covers all its requests', () => {
    const rules = shadowRules(`${HEAD}rules:\n  - { id: ops, effect: allow, match: { operations: [getOrder, deleteOrder] } }\n  - { id: later, effect: allow, match: { methods: [GET], paths: ["/api/v1/orders/{id}"] } }\n`);
    expect(findShadowedRules(rules).map(({ rule, by }) => `${rule.id} by ${by.id}`)).toEqual(['later by ops']);
  });

  it('does not take routes for methods × paths', () => {
    // getOrder is GET /api/v1/orders/{id}, createOrder POST /api/v1/orders: no route is POST /api/v1/orders/{id}.
    const rules = shadowRules(
      `${HEAD}rules:\n  - { id: ops, effect: allow, match: { operations: [getOrder, createOrder] } }\n  - { id: later, effect: allow, match: { methods: [POST], paths: ["/api/v1/orders/{id}"] } }\n`,
    );
    expect(findShadowedRules(rules)).toEqual([]);
    expect(matchCovers(rules[0]!, rules[1]!)).toBe(false);
    expect(matchCovers(rules[1]!, rules[0]!)).toBe(false);
  });
});

describe('rules bound to operations follow OpenAPI routing', () => {
  const document = 'test/fixtures/openapi/concrete-before-template/openapi.yaml';

  it('does not let a rule on the templated operation open a concrete path that is another operation', async () => {
    const api = await loadApiDescription(document);
    const policy = compileYaml(
      'service: orders\napi: { openapi: concrete-before-template/openapi.yaml }\nrules:\n  - { id: read-one, effect: allow, match: { operations: [getOrder] } }\n',
      ['test-idp'],
      POLICY_FILE,
      { apiDescriptions: new Map([[resolve(document), api]]) },
    );
    const decide = async (path: string) => {
      const normalized = normalizePath(path);
      if (!normalized.ok) throw new Error(path);
      const caller = callerContext({ identity: user('u'), request: { method: 'GET', path, headers: new Map(), clientAddress: undefined } });
      return evaluatePolicy(policy, { method: 'GET', segments: normalized.segments }, caller);
    };
    const one = await decide('/orders/42');
    expect(one.allowed).toBe(true);
    expect(one.params).toEqual({ id: '42' });
    // listMine, not getOrder with id "mine".
    expect((await decide('/orders/mine')).allowed).toBe(false);
  });
});
