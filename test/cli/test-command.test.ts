// `keycard test`: policy unit-test files, their validation, the report and the exit codes.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testCommand } from '../../src/cli/test.js';
import { listPolicyFiles, loadPolicies } from '../../src/policy/load-policies.js';
import { cliFixture, type CliFixture } from './fixture.js';
import { capture } from './run-cli.js';

let fixture: CliFixture;
beforeEach(async () => {
  fixture = await cliFixture();
});
afterEach(() => fixture.workspace.remove());

const run = (...args: string[]) => capture(() => testCommand(['--config', fixture.config, ...args]));
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

const PASSING = `
service: orders
cases:
  - name: probes need no credential
    request: { method: GET, path: /healthz }
    expect: { decision: allow, status: 200, reason: allowed, rule: health }
  - name: customers read orders
    request: { method: GET, path: /orders/42, headers: { x-tenant: acme }, source: 10.1.2.3 }
    caller: { subject: alice }
    expect: { decision: allow, rule: read }
  - name: refunds need finance
    request: { method: POST, path: /orders/42/refund }
    caller: { subject: alice }
    expect: { decision: deny, status: 403, reason: no_matching_rule, rule: null }
`;

const FAILING = `
service: orders
cases:
  - name: customers read orders
    request: { method: GET, path: /orders/42 }
    caller: { subject: alice }
    expect: { decision: allow }
  - name: customers refund orders
    request: { method: POST, path: /orders/42/refund }
    caller: { subject: alice }
    expect: { decision: allow, status: 200, rule: refund }
`;

describe('keycard test', () => {
  it('passes a file whose cases all hold, with one line per case and the summary last', async () => {
    fixture.workspace.write('policies/orders.test.yaml', PASSING);
    const { code, stdout } = await run();
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      `${fixture.workspace.path('policies/orders.test.yaml')}`,
      '  ✓ probes need no credential',
      '  ✓ customers read orders',
      '  ✓ refunds need finance',
      '3 passed, 0 failed',
    ]);
  });

  it('fails a case with expected vs got for each differing field and the explanation', async () => {
    const file = fixture.workspace.write('policies/orders.test.yaml', FAILING);
    const { code, stdout } = await run();
    expect(code).toBe(1);
    expect(stdout).toContain('  ✓ customers read orders');
    expect(stdout).toContain(`  ✗ customers refund orders (${file}:8)`);
    const failure = stdout.slice(stdout.indexOf('✗'));
    expect(failure).toContain('decision: expected allow, got deny');
    expect(failure).toContain('status:   expected 200, got 403');
    expect(failure).toContain('rule:     expected refund, got (none)');
    expect(failure).not.toContain('reason:'); // not expected, so not compared
    expect(failure).toContain('how keycard decided:');
    expect(failure).toContain('caller    alice (issuer test-idp)');
    expect(failure).toContain('roles     customer (from the store)');
    expect(failure).toMatch(/refund\s+allow\s+not applied: alice lacks role finance/);
    expect(failure).toMatch(/support-all\s+allow\s+not applied: alice lacks role support/);
    expect(failure).toContain('decision  deny 403 no_matching_rule');
    expect(lastLine(stdout)).toBe('1 passed, 1 failed');
  });

  it('rejects an invalid test file with located errors (exit 2) and still runs the others', async () => {
    const bad = fixture.workspace.write(
      'policies/a-bad.test.yaml',
      `service: orders
cases:
  - name: typo
    request: { method: GET, path: /healthz }
    expect: { decison: allow }
`,
    );
    fixture.workspace.write('policies/orders.test.yaml', PASSING);
    const { code, stdout } = await run();
    expect(code).toBe(2);
    expect(stdout).toContain(`  error: ${bad}:5:15 [unknown_key] cases[0].expect.decison: unknown key "decison"`);
    expect(stdout).toContain('  ✓ customers read orders');
    expect(lastLine(stdout)).toBe('3 passed, 0 failed');
  });

  it('checks a file against the policies: services, rule ids, issuers, permissions, case names', async () => {
    const file = fixture.workspace.write(
      'policies/orders.test.yaml',
      `service: order
cases:
  - name: one
    request: { path: /healthz }
    expect: { decision: allow }
  - name: two
    request: { path: /orders/1, service: orders }
    caller: { subject: alice, issuer: other-idp }
    expect: { rule: reed, permissions: [read] }
  - name: one
    request: { path: /healthz, service: nope }
    expect: { reason: unknown_service }
  - name: four
    request: { path: /healthz, service: orders }
    caller: { subject: alice, claims: { sub: bob } }
    now: "2026-11-23 10:00"
    expect: { reason: not_a_reason }
`,
    );
    const { code, stdout } = await run();
    expect(code).toBe(2);
    // Schema problems come first: the policy checks need a valid file.
    expect(stdout).toContain(`${file}:15:46 [invalid_value] cases[3].caller.claims.sub: sub is the caller's subject: set "subject" instead`);
    expect(stdout).toContain(`${file}:16:10 [invalid_value] cases[3].now: an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z`);
    expect(stdout).toContain(`${file}:17:23 [invalid_value] cases[3].expect.reason: Invalid option: expected one of "allowed"|`);

    fixture.workspace.write('policies/orders.test.yaml', readFileSync(file, 'utf8').split('  - name: four')[0]!);
    const second = await run();
    expect(second.code).toBe(2);
    expect(second.stdout.split('\n').filter((line) => line.includes('error:'))).toEqual([
      `  error: ${file}:1:10 [invalid_value] service: no policy serves service "order"`,
      `  error: ${file}:8:39 [unknown_issuer] cases[1].caller.issuer: issuer "other-idp" is not configured in the settings file`,
      `  error: ${file}:9:21 [invalid_value] cases[1].expect.rule: policy "orders" has no rule "reed"`,
      `  error: ${file}:9:40 [invalid_value] cases[1].expect.permissions: policy "orders" does not forward permissions (forward.permissionsHeader), so none are computed`,
      `  error: ${file}:10:11 [invalid_value] cases[2].name: case name "one" is also used by cases[0]`,
    ]);
  });

  it('decides with the given time, claims and roles, and compares challenges and permissions', async () => {
    fixture.workspace.write(
      'policies/reports.test.yaml',
      `service: reports
now: "2026-11-23T10:00:00Z"     # a Monday
cases:
  - name: analysts read reports in office hours
    request: { path: /reports/7 }
    caller: { subject: ana }
    expect: { decision: allow, rule: office-hours, permissions: [office-hours] }
  - name: not on Sundays
    request: { path: /reports/7 }
    caller: { subject: ana }
    now: "2026-11-22T10:00:00+00:00"
    expect: { decision: deny, reason: no_matching_rule }
  - name: roles given per case replace the store's
    request: { path: /reports/7 }
    caller: { subject: bob, roles: [analyst] }
    expect: { decision: allow, rule: office-hours }
  - name: a recent login exports
    request: { method: POST, path: /reports/7/export }
    caller: { subject: ana, claims: { auth_time: 1795427880 } }   # 2026-11-23T09:58:00Z
    expect: { decision: allow, rule: export, permissions: [office-hours, export] }
  - name: an old login is asked to step up
    request: { method: POST, path: /reports/7/export }
    caller: { subject: ana, claims: { auth_time: 1795418400 } }   # 2026-11-23T07:20:00Z
    expect: { decision: deny, status: 401, reason: insufficient_user_authentication, challenge: { maxAgeSeconds: 300 } }
`,
    );
    fixture.workspace.write(
      'policies/beta.test.yaml',
      `service: beta
cases:
  - name: dry-run lets the would-be deny through and says so
    request: { path: /x }
    caller: { subject: alice }
    expect: { decision: dry_run_deny, status: 200, reason: allowed }
  - name: staff pass for real
    request: { path: /x }
    caller: { subject: sam }
    expect: { decision: allow, rule: staff-only }
`,
    );
    const { code, stdout } = await run();
    expect(stdout).not.toContain('✗');
    expect(code).toBe(0);
    expect(lastLine(stdout)).toBe('7 passed, 0 failed');
  });

  it('replaces the store with the file\'s state (seed-file form)', async () => {
    fixture.workspace.write(
      'policies/orders.test.yaml',
      `service: orders
state:
  roleBindings: [{ subject: bob, roles: [finance], service: orders }]
cases:
  - name: bob is finance here
    request: { method: POST, path: /orders/1/refund }
    caller: { subject: bob }
    expect: { decision: allow, rule: refund }
  - name: alice has no role here
    request: { path: /orders/1 }
    caller: { subject: alice }
    expect: { decision: deny, reason: no_matching_rule }
`,
    );
    const { code, stdout } = await run();
    expect(stdout).not.toContain('✗');
    expect(code).toBe(0);
  });

  it('validates the state like a seed file', async () => {
    const file = fixture.workspace.write(
      'policies/orders.test.yaml',
      `state:
  roleBindings: [{ subject: bob, role: finance }]
cases:
  - name: x
    request: { path: /healthz, service: orders }
    expect: { decision: allow }
`,
    );
    const { code, stdout } = await run();
    expect(code).toBe(2);
    expect(stdout).toContain(`${file}:2:34 [unknown_key] state.roleBindings[0].role: unknown key "role"`);
    expect(stdout).toContain(`${file}:2:18 [missing_key] state.roleBindings[0].roles: required key is missing`);
  });

  it('takes directories and single files, and prints a JSON report with --format json', async () => {
    const file = fixture.workspace.write('elsewhere/orders.test.yaml', FAILING);
    const { code, stdout } = await run(file, '--format', 'json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as {
      files: { file: string; cases: { name: string; passed: boolean; mismatches: unknown[]; got: Record<string, unknown> }[] }[];
      passed: number;
      failed: number;
    };
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    expect(report.files[0]?.file).toBe(file);
    expect(report.files[0]?.cases[1]).toMatchObject({
      name: 'customers refund orders',
      passed: false,
      mismatches: [
        { field: 'decision', expected: 'allow', got: 'deny' },
        { field: 'status', expected: 200, got: 403 },
        { field: 'rule', expected: 'refund', got: null },
      ],
      got: { decision: 'deny', status: 403, reason: 'no_matching_rule', rule: null, service: 'orders', roles: ['customer'] },
    });
    expect((await run(fixture.workspace.path('elsewhere'))).code).toBe(1);
  });

  it('is an error (exit 2) when there is nothing to run or the policies are broken', async () => {
    const empty = await run();
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the directory has no *.test.yaml files');

    fixture.workspace.write('policies/orders.test.yaml', PASSING);
    fixture.workspace.write('policies/broken.yaml', 'service: broken\nrules: [{ id: x, effect: maybe }]\n');
    const broken = await run();
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.yaml:2:\d+ \[invalid_value\] rules\[0\]\.effect/);
  });

  it('rejects an unknown --format', async () => {
    await expect(run('--format', 'xml')).rejects.toThrow('--format: "xml" is not text or json');
  });
});

describe('policy loading', () => {
  it('does not load *.test.yaml files as policies', async () => {
    fixture.workspace.write('policies/orders.test.yaml', PASSING);
    fixture.workspace.write('policies/other.test.yml', PASSING);
    const dir = fixture.workspace.path('policies');
    expect(listPolicyFiles(dir).map((file) => file.slice(dir.length + 1))).toEqual(['beta.yaml', 'orders.yaml', 'reports.yaml']);
    const set = loadPolicies(dir, { issuers: new Set(['test-idp']) });
    expect(set.policies.map((policy) => policy.service).sort()).toEqual(['beta', 'orders', 'reports']);
  });
});
