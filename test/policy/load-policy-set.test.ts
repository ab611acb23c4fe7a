// loadPolicySet: the policies of a directory with the API descriptions they name, each loaded once,
// cached between loads, part of the set's version, and reported with the policy that names them
// when they are broken.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../src/errors.js';
import { loadPolicySet, type PolicySetOptions } from '../../src/policy/load-policies.js';
import type { PolicySet } from '../../src/policy/policy-set.js';
import { ApiDescriptionCache } from '../../src/registry/api-cache.js';
import { Workspace } from '../helpers/workspace.js';

const API = `openapi: 3.0.3
info: { title: Orders, version: "1" }
paths:
  /orders/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
    get: { operationId: getOrder, x-keycard-permission: orders.read, responses: { "200": { description: ok } } }
    delete: { operationId: deleteOrder, x-keycard-permission: orders.write, responses: { "204": { description: gone } } }
`;

const POLICY = `service: orders
api: { openapi: ../api/orders.yaml }
rules:
  - { id: read, effect: allow, match: { operations: [getOrder] } }
  - { id: write, effect: allow, match: { permissions: [orders.write] } }
`;

let workspace: Workspace;
afterEach(() => workspace?.remove());

function setUp(files: Record<string, string>): string {
  workspace = new Workspace().writeAll(files);
  return workspace.path('policies');
}

async function loadErrors(dir: string, options: Partial<PolicySetOptions> = {}): Promise<string[]> {
  const error = await loadPolicySet(dir, { issuers: new Set(), ...options }).then(
    () => new Error('the policies loaded without error'),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConfigError)) throw error;
  return error.issues.map((issue) => formatConfigIssue(issue).replaceAll(`${workspace.dir}/`, ''));
}

const routesOf = (set: PolicySet) =>
  set.route('orders', '')!.rules.map((rule) => `${rule.id}: ${[...(rule.routes ?? [])].map(([method, templates]) => `${method} ${templates.map((t) => t.source).join(',')}`).join('; ')}`);

describe('loadPolicySet', () => {
  it('loads the description a policy names, relative to the policy file, and resolves its rules', async () => {
    const dir = setUp({ 'policies/orders.yaml': POLICY, 'api/orders.yaml': API });
    let apiFiles: readonly string[] = [];
    const set = await loadPolicySet(dir, { issuers: new Set(), onApiFiles: (files) => (apiFiles = files) });
    expect(set.route('orders', '')!.api?.operations.map((op) => op.operationId)).toEqual(['getOrder', 'deleteOrder']);
    expect(routesOf(set)).toEqual(['read: GET /orders/{id}', 'write: DELETE /orders/{id}']);
    expect(apiFiles).toEqual([workspace.path('api/orders.yaml')]);
  });

  it('makes a changed description a new version, and reuses an unchanged one from the cache', async () => {
    const dir = setUp({ 'policies/orders.yaml': POLICY, 'api/orders.yaml': API });
    const apiCache = new ApiDescriptionCache();
    const first = await loadPolicySet(dir, { issuers: new Set(), apiCache });
    const again = await loadPolicySet(dir, { issuers: new Set(), apiCache });
    expect(again.version).toBe(first.version);
    // Not parsed again: the very same description.
    expect(again.route('orders', '')!.api).toBe(first.route('orders', '')!.api);

    workspace.write('api/orders.yaml', API.replace('/orders/{id}:', '/v2/orders/{id}:'));
    const changed = await loadPolicySet(dir, { issuers: new Set(), apiCache });
    expect(changed.version).not.toBe(first.version);
    expect(routesOf(changed)).toEqual(['read: GET /v2/orders/{id}', 'write: DELETE /v2/orders/{id}']);
  });

  it('does not read a description in the policy directory as a policy', async () => {
    const dir = setUp({ 'policies/orders.yaml': POLICY.replace('../api/orders.yaml', 'orders.openapi.yaml'), 'policies/orders.openapi.yaml': API });
    const set = await loadPolicySet(dir, { issuers: new Set() });
    expect(set.policies.map((policy) => policy.service)).toEqual(['orders']);
  });

  it("reports a broken description's problems, then the policy that names it", async () => {
    const dir = setUp({ 'policies/orders.yaml': POLICY, 'api/orders.yaml': API.replace('responses: { "200": { description: ok } }', 'responses: { "200": {} }') });
    expect(await loadErrors(dir)).toEqual([
      "api/orders.yaml:6:83 [invalid_api_description] /paths/~1orders~1{id}/get/responses/200: must have required property 'description'",
      'policies/orders.yaml:2:17 [invalid_api_description] api.openapi: the API description ../api/orders.yaml did not load (its errors are listed with it)',
    ]);
  });

  it('reports an unknown operationId with the policy file, line and column', async () => {
    const dir = setUp({ 'policies/orders.yaml': POLICY.replace('[getOrder]', '[getOrders]'), 'api/orders.yaml': API });
    expect(await loadErrors(dir)).toEqual([
      'policies/orders.yaml:4:54 [unknown_operation] rules[0].match.operations[0]: operation "getOrders" is not in api/orders.yaml (operationIds: deleteOrder, getOrder)',
    ]);
  });
});
