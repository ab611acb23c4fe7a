import { describe, expect, it } from 'vitest';
import { parseAcceptLoss, readAcceptFile } from '../../../src/registry/analysis/accept.js';
import { serviceDiff } from '../../../src/registry/analysis/access-diff.js';
import { coverCases, termText } from '../../../src/registry/analysis/boolean-cover.js';
import { diffExitCode, diffReport } from '../../../src/registry/analysis/diff-report.js';
import { formatConfigIssue } from '../../../src/errors.js';
import { configError } from '../../helpers/config-error.js';
import { compileYaml } from '../../helpers/policy.js';
import { Workspace } from '../../helpers/workspace.js';
import { api } from './api.js';

const ORDERS_API = api('GET /orders/{id} getOrder', 'POST /orders/{id}/refund refund', 'DELETE /orders/{id} deleteOrder');

const OLD = compileYaml(`
service: orders
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: [customer, support] }] }
  - { id: refund, effect: allow, match: { methods: [POST], paths: ["/orders/{id}/refund"] }, when: [{ role: finance }] }
  - { id: support-all, effect: allow, match: { paths: ["/**"] }, when: [{ role: support }] }
`);

const NEW = compileYaml(`
service: orders
rules:
  - { id: read-own, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }, { scope: orders:read }] }
  - { id: refund, effect: allow, match: { methods: [POST], paths: ["/orders/{id}/refund"] }, when: [{ role: finance }, { mfa: true }] }
  - { id: support-all, effect: allow, match: { paths: ["/**"] }, when: [{ role: support }] }
  - { id: no-support-delete, effect: deny, match: { methods: [DELETE] }, when: [{ role: support }] }
  - { id: public-read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, anonymous: true, when: [{ header: { name: x-preview, present: true } }] }
`);

const ROLES = ['customer', 'finance', 'support'];

async function changes(from = OLD, to = NEW) {
  const found = await serviceDiff({ service: 'orders', from: { policy: from, api: ORDERS_API }, to: { policy: to, api: ORDERS_API }, roles: ROLES });
  return found.map(({ change, operation, caller, when, before, after }) => `${change} ${operation} ${caller} ${when.join(' | ')}: ${before.join(',')} -> ${after.join(',')}`);
}

describe('access diff', () => {
  it('lists exactly the gained and lost access, with the cases and the rule on each side', async () => {
    expect(await changes()).toEqual([
      'gained getOrder anonymous header x-preview is present: (no rule) -> public-read',
      'gained getOrder authenticated header x-preview is present: (no rule) -> public-read',
      'lost getOrder role:customer not header x-preview is present and not scope orders:read: read -> (no rule)',
      'gained getOrder role:finance header x-preview is present: (no rule) -> public-read',
      'lost refund role:finance not multi-factor authentication: refund -> (no rule)',
      'lost deleteOrder role:support always: support-all -> no-support-delete',
    ]);
  });

  it('reports nothing when the policies decide alike', async () => {
    expect(await changes(OLD, OLD)).toEqual([]);
  });

  it('a service missing from the new set loses everything it granted', async () => {
    const found = await serviceDiff({ service: 'orders', from: { policy: OLD, api: ORDERS_API }, to: { policy: undefined, api: undefined }, roles: ROLES });
    expect(found.map(({ change, operation, caller, after }) => `${change} ${operation} ${caller} -> ${after.join(',')}`)).toEqual([
      'lost getOrder role:customer -> (no policy)',
      'lost getOrder role:support -> (no policy)',
      'lost refund role:finance -> (no policy)',
      'lost refund role:support -> (no policy)',
      'lost deleteOrder role:support -> (no policy)',
    ]);
  });

  it('exits 1 until every enforced loss is acknowledged, and reports unused acknowledgements', async () => {
    const inputs = [{ service: 'orders', from: { policy: OLD, api: ORDERS_API }, to: { policy: NEW, api: ORDERS_API }, roles: ROLES }];
    const dirs = { from: 'old', to: 'new' };
    expect(diffExitCode(await diffReport(dirs, inputs, []))).toBe(1);
    const some = [parseAcceptLoss('orders:getOrder:role:customer')!, parseAcceptLoss('orders:refund:role:finance')!];
    expect(diffExitCode(await diffReport(dirs, inputs, some))).toBe(1);
    const all = [...some, parseAcceptLoss('orders:DELETE /orders/{id}:role:support')!, parseAcceptLoss('orders:getOrder:anonymous')!];
    const report = await diffReport(dirs, inputs, all);
    expect(diffExitCode(report)).toBe(0);
    expect(report.totals).toEqual({ gained: 3, lost: 3, accepted: 3, unaccepted: 0 });
    expect(report.unusedAcceptances.map((entry) => entry.key)).toEqual(['orders:getOrder:anonymous']);
  });

  it('leaving dry-run mode loses what the old policy only let through, and that blocks', async () => {
    const dryRun = { ...OLD, mode: 'dry-run' as const };
    const report = await diffReport({ from: 'a', to: 'b' }, [{ service: 'orders', from: { policy: dryRun, api: ORDERS_API }, to: { policy: OLD, api: ORDERS_API }, roles: ROLES }], []);
    const lost = report.changes.map(({ change, operation, caller, before, after }) => `${change} ${operation} ${caller}: ${before.join(',')} -> ${after.join(',')}`);
    expect(lost).toContain('lost getOrder anonymous: (dry-run mode) -> (no rule)');
    expect(lost).toContain('lost refund role:customer: (dry-run mode) -> (no rule)');
    expect(lost).not.toContain('lost getOrder role:customer: (dry-run mode) -> (no rule)');
    // 3 operations × 5 callers, less what the policy grants: customer and support read, finance and support refund, support deletes.
    expect(report.totals).toMatchObject({ lost: 15 - 5, gained: 0, unaccepted: 10 });
    expect(diffExitCode(report)).toBe(1);
  });

  it('losses under a dry-run policy are reported but do not block', async () => {
    const dryRun = { ...NEW, mode: 'dry-run' as const };
    const report = await diffReport({ from: 'a', to: 'b' }, [{ service: 'orders', from: { policy: OLD, api: ORDERS_API }, to: { policy: dryRun, api: ORDERS_API }, roles: ROLES }], []);
    expect(report.totals).toMatchObject({ lost: 3, unaccepted: 0 });
    expect(diffExitCode(report)).toBe(0);
  });
});

describe('accept entries', () => {
  it('parses SERVICE:OPERATION:CALLER, roles and paths with colons included', () => {
    expect(parseAcceptLoss('orders:getOrder:role:orders:admin')).toMatchObject({ key: 'orders:getOrder:role:orders:admin' });
    expect(parseAcceptLoss('orders:getOrder')).toBeUndefined();
    expect(parseAcceptLoss('orders:getOrder:someone')).toBeUndefined();
  });

  it('reads an accept file and reports a malformed one at its line', () => {
    const workspace = new Workspace();
    try {
      const good = workspace.write('accept.yaml', '- { service: orders, operation: getOrder, caller: "role:customer", reason: moving to relations }\n');
      expect(readAcceptFile(good)).toEqual([{ key: 'orders:getOrder:role:customer', reason: 'moving to relations', source: `${good}:1` }]);
      const bad = workspace.write('bad.yaml', '- { service: orders, operation: getOrder, caller: customer }\n- { service: orders, op: x, caller: anonymous }\n');
      expect(configError(() => readAcceptFile(bad), 'no error').issues.map(formatConfigIssue)).toEqual([
        `${bad}:1:51 [invalid_value] [0].caller: caller is anonymous, authenticated or role:NAME`,
        `${bad}:2:3 [missing_key] [1].operation: required key is missing`,
        `${bad}:2:22 [unknown_key] [1].op: unknown key "op"`,
      ]);
    } finally {
      workspace.remove();
    }
  });
});

describe('boolean cover', () => {
  it('describes a set of cases with few conjunctions', () => {
    const names = ['a', 'b', 'c'];
    // a and not b, whatever c: masks where bit0=1, bit1=0.
    expect(coverCases([0b001, 0b101], 3).map((term) => termText(term, names))).toEqual(['a and not b']);
    expect(coverCases([0, 1, 2, 3], 2).map((term) => termText(term, names))).toEqual(['always']);
    expect(coverCases([0b01, 0b10], 2).map((term) => termText(term, names)).sort()).toEqual(['a and not b', 'not a and b']);
    expect(coverCases([], 2)).toEqual([]);
  });
});
