// `keycard check` in-process: a request from a file (or flags), a given caller, and the explanation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand, parseClaims } from '../../src/cli/check.js';
import { signToken } from '../helpers/keys.js';
import { cliFixture, type CliFixture } from './fixture.js';
import { capture } from './run-cli.js';

let fixture: CliFixture;
beforeAll(async () => {
  fixture = await cliFixture();
});
afterAll(() => fixture.workspace.remove());

const check = (...args: string[]) => capture(() => checkCommand(['--config', fixture.config, ...args]));
const request = (name: string, body: object) => fixture.workspace.write(name, body);

describe('keycard check --request', () => {
  it('explains a deny: service, caller, roles from the store, each rule with its failed condition, the reason', async () => {
    const file = request('refund.json', { method: 'POST', path: '/orders/42/refund', service: 'orders', headers: { 'X-Tenant': 'acme' }, source: '10.1.2.3' });
    const { code, stdout } = await check('--request', file, '--subject', 'alice');
    expect(code).toBe(1);
    expect(stdout.split('\n')).toEqual([
      'request   POST /orders/42/refund from 10.1.2.3',
      'service   orders (named by the request)',
      'caller    alice (issuer test-idp)',
      'roles     customer (from the store)',
      'rules     evaluated for this request, in policy order:',
      '  refund       allow  not applied: alice lacks role finance',
      '  support-all  allow  not applied: alice lacks role support',
      'decision  deny 403 no_matching_rule (no policy rule allows this request)',
    ]);
  });

  it('takes roles and claims from the flags, and routes by host', async () => {
    const file = request('refund-by-host.json', { method: 'post', path: '/orders/42/refund', host: 'Orders.Shop.Svc:443' });
    const { code, stdout } = await check('--request', file, '--subject', 'bob', '--roles', 'finance, auditor', '--claim', 'amr=["pwd","otp"]', '--claim', 'team=blue');
    expect(code).toBe(0);
    expect(stdout).toContain('service   orders (by host "Orders.Shop.Svc:443")');
    expect(stdout).toContain('caller    bob (issuer test-idp); claims amr=["pwd","otp"], team="blue"');
    expect(stdout).toContain('roles     finance, auditor (given)');
    expect(stdout).toMatch(/ {2}refund\s+allow\s+applied\n/);
    expect(stdout).toContain('decision  allow 200 allowed by rule refund');
  });

  it('decides at --now and shows explicit denies and step-up challenges', async () => {
    const sunday = await check('--path', '/reports/7', '--service', 'reports', '--subject', 'ana', '--now', '2026-11-22T10:00:00Z');
    expect(sunday.code).toBe(1);
    expect(sunday.stdout).toContain('office-hours  allow  not applied: sun 10:00 UTC is outside mon,tue,wed,thu,fri 09:00-18:00 UTC');
    const monday = await check('--path', '/reports/7', '--service', 'reports', '--subject', 'ana', '--now', '2026-11-23T10:00:00Z');
    expect(monday.code).toBe(0);
    expect(monday.stdout).toContain('perms     office-hours');

    const stale = await check('--method', 'POST', '--path', '/reports/7/export', '--service', 'reports', '--subject', 'ana', '--claim', 'auth_time=1795418400', '--now', '2026-11-23T10:00:00Z');
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain('  export  allow  not applied, needs step-up authentication: authenticated 9600s ago, more than 300s');
    expect(stale.stdout).toContain('decision  deny 401 insufficient_user_authentication');
    expect(stale.stdout).toContain('challenge max_age 300');

    const legacy = await check('--path', '/v1/orders', '--service', 'orders', '--subject', 'sam');
    expect(legacy.stdout).toContain('decision  deny 403 explicit_deny by rule legacy-off');
    expect(legacy.stdout).toMatch(/legacy-off\s+deny\s+applied/);
  });

  it('explains anonymous callers, unknown services and dry-run', async () => {
    const anonymous = await check('--path', '/orders/1', '--service', 'orders', '--now', '2026-11-23T10:00:00Z');
    expect(anonymous.stdout).toContain('caller    anonymous');
    expect(anonymous.stdout).toMatch(/read\s+allow\s+not applied: needs an authenticated caller/);
    expect(anonymous.stdout).toContain('decision  deny 401 authentication_required');

    const unknown = await check('--path', '/x', '--host', 'nowhere.example', '--subject', 'alice');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('service   none: no policy serves host "nowhere.example"');
    expect(unknown.stdout).toContain('decision  deny 403 unknown_service');

    const dryRun = await check('--path', '/x', '--service', 'beta', '--subject', 'alice');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('decision  dry_run_deny 200: allowed because of dry-run; enforcing would deny with no_matching_rule');
  });

  it('prints the JSON form with --format json', async () => {
    const file = request('read.json', { path: '/orders/42', service: 'orders' });
    const { code, stdout } = await check('--request', file, '--subject', 'alice', '--format', 'json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      decision: 'allow',
      status: 200,
      reason: 'allowed',
      service: 'orders',
      rule: 'read',
      subject: 'alice',
      roles: ['customer'],
      path: '/orders/42',
      explanation: [{ id: 'read', effect: 'allow', outcome: 'applied' }],
    });
  });

  it('lets flags override the request file', async () => {
    const file = request('base.json', { method: 'GET', path: '/orders/42', service: 'orders' });
    const { stdout } = await check('--request', file, '--method', 'POST', '--path', '/orders/42/refund', '--subject', 'fiona');
    expect(stdout).toContain('request   POST /orders/42/refund');
    expect(stdout).toContain('allowed by rule refund');
  });

  it('still authenticates a --token in-process', async () => {
    const token = await signToken(fixture.key, { sub: 'alice' });
    const allowed = await check('--service', 'orders', '--path', '/orders/42', '--token', token);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('caller    alice (issuer test-idp)');
    const denied = await check('--service', 'orders', '--path', '/orders/42', '--token', 'not.a.jwt');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('decision  deny 401 malformed_token');
  });

  it('reports an invalid request file with located errors and exit 2', async () => {
    const file = fixture.workspace.write('bad.json', '{\n  "path": "/x",\n  "metod": "GET",\n  "source": "not-an-ip"\n}\n');
    const { code, stderr } = await check('--request', file);
    expect(code).toBe(2);
    expect(stderr.split('\n').sort()).toEqual([
      `${file}:3:3 [unknown_key] metod: unknown key "metod"`,
      `${file}:4:13 [invalid_value] source: an IPv4 or IPv6 address`,
    ]);
  });

  it('is exit 2 when the policies do not load', async () => {
    const broken = await cliFixture();
    try {
      broken.workspace.write('policies/broken.yaml', 'service: orders\n');
      const { code, stderr } = await capture(() => checkCommand(['--config', broken.config, '--path', '/x', '--subject', 'a']));
      expect(code).toBe(2);
      expect(stderr).toContain('[duplicate_service]');
    } finally {
      broken.workspace.remove();
    }
  });

  it('rejects flag combinations that make no sense', async () => {
    await expect(check('--path', '/x', '--roles', 'a')).rejects.toThrow('add --subject');
    await expect(check('--path', '/x', '--subject', 'a', '--token', 't')).rejects.toThrow('are alternatives');
    await expect(check('--path', '/x', '--subject', 'a', '--server', '127.0.0.1:1')).rejects.toThrow('leave out --server');
    await expect(check('--path', '/x', '--now', 'tomorrow')).rejects.toThrow('--now: "tomorrow" is not an ISO 8601 date-time');
    await expect(check('--path', '/x', '--subject', 'a', '--issuer', 'nope')).rejects.toThrow('--issuer: "nope" is not an issuer of the settings file (test-idp)');
    await expect(check('--subject', 'a')).rejects.toThrow('check needs --path');
    await expect(check('--path', '/x', '--format', 'yaml')).rejects.toThrow('--format');
  });
});

describe('parseClaims', () => {
  it('reads JSON values as JSON and anything else as a string', () => {
    expect(parseClaims(['auth_time=1700000000', 'amr=["pwd","otp"]', 'name=Ann', 'id=007', 'empty='])).toEqual({
      auth_time: 1700000000,
      amr: ['pwd', 'otp'],
      name: 'Ann',
      id: '007',
      empty: '',
    });
  });
});
