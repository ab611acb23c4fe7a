import { describe, expect, it } from 'vitest';
import { coverageExitCode, coverageReport } from '../../../src/registry/analysis/coverage-report.js';
import type { Finding } from '../../../src/registry/analysis/findings.js';
import type { ApiDescription } from '../../../src/registry/types.js';
import { compileYaml } from '../../helpers/policy.js';
import { api } from './api.js';

async function findings(policyYaml: string, description: ApiDescription, roles: string[] = []): Promise<Pick<Finding, 'code' | 'severity' | 'line' | 'operation' | 'rule' | 'message'>[]> {
  const report = await coverageReport([{ policy: compileYaml(policyYaml), api: description, roles }]);
  return report.findings.map(({ code, severity, line, operation, rule, message }) => ({ code, severity, line, operation, rule, message }));
}

const HEADER = 'service: orders\nrules:\n';

describe('coverage findings', () => {
  it('is clean when every operation is reachable and every rule is used', async () => {
    const policy = `${HEADER}  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }] }\n`;
    expect(await findings(policy, api('GET /orders/{id} getOrder'), ['customer'])).toEqual([]);
  });

  it('operation_unreachable: no allow rule matches the operation', async () => {
    const policy = `${HEADER}  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] } }\n`;
    expect(await findings(policy, api('GET /orders/{id} getOrder', 'POST /orders createOrder'))).toEqual([
      {
        code: 'operation_unreachable',
        severity: 'error',
        line: undefined,
        operation: 'createOrder',
        rule: undefined,
        message: 'createOrder (POST /orders): every caller is denied: no allow rule matches it',
      },
    ]);
  });

  it('operation_unreachable: the allow rules need a role no binding gives', async () => {
    const policy = `${HEADER}  - { id: refund, effect: allow, match: { methods: [POST], paths: ["/orders/{id}/refund"] }, when: [{ role: finance }] }\n`;
    expect(await findings(policy, api('POST /orders/{id}/refund refund'), ['customer'])).toMatchObject([
      { code: 'operation_unreachable', message: 'refund (POST /orders/{id}/refund): every caller is denied: the allow rules matching it (refund) apply to none of anonymous, authenticated, role:customer' },
    ]);
  });

  it('operation_unreachable: a deny rule applies to every caller', async () => {
    const policy = `${HEADER}  - { id: all, effect: allow, match: { paths: ["/**"] }, anonymous: true }\n  - { id: off, effect: deny, match: { paths: ["/v1/**"] } }\n`;
    expect(await findings(policy, api('GET /v1/orders', 'GET /orders'))).toMatchObject([
      { code: 'operation_unreachable', operation: 'GET /v1/orders', message: 'GET /v1/orders: every caller is denied: deny rule off applies to every caller' },
    ]);
  });

  it('anonymous_unsafe_method: a write without a credential, even a conditional one', async () => {
    const policy = `${HEADER}  - { id: open, effect: allow, match: { paths: ["/orders/**"] }, anonymous: true, when: [{ header: { name: x-partner, present: true } }] }\n`;
    expect(await findings(policy, api('GET /orders/{id} getOrder', 'DELETE /orders/{id} deleteOrder'))).toEqual([
      {
        code: 'anonymous_unsafe_method',
        severity: 'error',
        line: undefined,
        operation: 'deleteOrder',
        rule: undefined,
        message: 'deleteOrder (DELETE /orders/{id}): callers without a credential may use DELETE: allow if header x-partner is present [open]',
      },
    ]);
  });

  it('rule_matches_no_operation: a mistyped path and a method the API does not have', async () => {
    const policy = `${HEADER}  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] } }
  - { id: typo, effect: allow, match: { methods: [GET], paths: ["/order/{id}"] } }
  - { id: wrong-method, effect: allow, match: { methods: [PUT], paths: ["/orders/{id}"] } }
`;
    expect(await findings(policy, api('GET /orders/{id} getOrder'))).toEqual([
      { code: 'rule_matches_no_operation', severity: 'warning', line: 4, operation: undefined, rule: 'typo', message: 'rule typo matches no operation of openapi.yaml' },
      {
        code: 'rule_matches_no_operation',
        severity: 'warning',
        line: 5,
        operation: undefined,
        rule: 'wrong-method',
        message: 'rule wrong-method matches no operation of openapi.yaml (its paths match operations only for GET)',
      },
    ]);
  });

  it('a rule matching only part of an operation (a literal where the API has a parameter) is not dead', async () => {
    const policy = `${HEADER}  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] } }\n  - { id: mine, effect: allow, match: { methods: [GET], paths: ["/orders/mine"] } }\n`;
    expect(await findings(policy, api('GET /orders/{id} getOrder'))).toEqual([]);
  });

  it('path_matches_no_operation: one dead template of a rule that is otherwise used', async () => {
    const policy = `${HEADER}  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}", "/invoices/{id}"] } }\n`;
    expect(await findings(policy, api('GET /orders/{id} getOrder'))).toEqual([
      { code: 'path_matches_no_operation', severity: 'warning', line: 3, operation: undefined, rule: 'read', message: 'path /invoices/{id} of rule read matches no operation of openapi.yaml' },
    ]);
  });

  it('param_name_mismatch: one finding per rule and rename, naming the operations', async () => {
    const policy = `${HEADER}  - { id: owner, effect: allow, match: { paths: ["/orders/{orderId}", "/orders/{orderId}/items"] }, when: [{ scope: orders }] }\n`;
    expect(await findings(policy, api('GET /orders/{id} getOrder', 'DELETE /orders/{id} deleteOrder', 'GET /orders/{id}/items items'))).toEqual([
      {
        code: 'param_name_mismatch',
        severity: 'warning',
        line: 3,
        operation: undefined,
        rule: 'owner',
        message: 'rule owner binds {orderId} in /orders/{orderId} where the API names it {id} (getOrder, deleteOrder)',
      },
      {
        code: 'param_name_mismatch',
        severity: 'warning',
        line: 3,
        operation: undefined,
        rule: 'owner',
        message: 'rule owner binds {orderId} in /orders/{orderId}/items where the API names it {id} (items)',
      },
    ]);
  });

  it('dry_run_only_grant: a dry-run deny rule is all that stands between a caller and the operation', async () => {
    const policy = `${HEADER}  - { id: staff, effect: allow, match: { paths: ["/orders/{id}"] }, when: [{ role: [support, intern] }] }
  - { id: no-interns, effect: deny, match: { methods: [DELETE] }, when: [{ role: intern }], dryRun: true }
`;
    expect(await findings(policy, api('GET /orders/{id} getOrder', 'DELETE /orders/{id} deleteOrder'), ['intern', 'support'])).toEqual([
      {
        code: 'dry_run_only_grant',
        severity: 'warning',
        line: undefined,
        operation: 'deleteOrder',
        rule: undefined,
        message: 'deleteOrder (DELETE /orders/{id}): role:intern is allowed only because deny rule no-interns is dry-run',
      },
    ]);
  });

  it('dry_run_only_grant: a dry-run service lets in the callers its policy denies', async () => {
    const policy = `service: beta\nmode: dry-run\nrules:\n  - { id: staff, effect: allow, match: { paths: ["/**"] }, when: [{ role: support }] }\n`;
    expect(await findings(policy, api('GET /things listThings'), ['support'])).toEqual([
      {
        code: 'dry_run_only_grant',
        severity: 'warning',
        line: undefined,
        operation: undefined,
        rule: undefined,
        message: 'service beta is in dry-run mode: requests the policy denies are let through, for 2 operation and caller pairs (anonymous on listThings, authenticated on listThings)',
      },
    ]);
  });

  it('permission_not_granted and permission_not_declared', async () => {
    const policy = `${HEADER}  - { id: read, effect: allow, match: { methods: [GET] }, permission: orders.read }
  - { id: refund, effect: allow, match: { methods: [POST] }, permission: orders.refunds }
  - { id: cancel, effect: allow, match: { methods: [DELETE] } }
`;
    const description = api('GET /orders/{id} getOrder orders.read', 'POST /orders/{id}/refund refund orders.refund', 'DELETE /orders/{id} cancel orders.cancel', 'POST /orders/{id}/undo undo orders.refund');
    expect(await findings(policy, description)).toEqual([
      {
        code: 'permission_not_declared',
        severity: 'warning',
        line: 4,
        operation: undefined,
        rule: 'refund',
        message: 'rule refund grants permission orders.refunds, which no operation of openapi.yaml declares',
      },
      {
        code: 'permission_not_granted',
        severity: 'warning',
        line: undefined,
        operation: 'refund',
        rule: undefined,
        message: 'permission orders.refund, declared by refund, undo, is granted by no allow rule',
      },
      {
        code: 'permission_not_granted',
        severity: 'warning',
        line: undefined,
        operation: 'cancel',
        rule: undefined,
        message: 'permission orders.cancel, declared by cancel, is granted by no allow rule',
      },
    ]);
  });
});

describe('coverage exit status', () => {
  it('is 2 with errors, 1 with warnings under --strict, else 0', () => {
    expect(coverageExitCode({ errors: 1, warnings: 0 }, false)).toBe(2);
    expect(coverageExitCode({ errors: 0, warnings: 3 }, false)).toBe(0);
    expect(coverageExitCode({ errors: 0, warnings: 3 }, true)).toBe(1);
    expect(coverageExitCode({ errors: 0, warnings: 0 }, true)).toBe(0);
  });
});
