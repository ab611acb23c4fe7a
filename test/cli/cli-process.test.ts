// The built CLI (`node dist/cli.js`, from `make build`) as a real process: exit codes of
// `keycard test` and `keycard check`, including --server against a running keycard.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../helpers/keys.js';
import { runCli, startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { cliFixture, type CliFixture } from './fixture.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The built CLI, run from the repository root (the examples' paths are relative to it). */
const keycard = (...args: string[]) => runCli(args, REPO);

let fixture: CliFixture;
beforeAll(async () => {
  fixture = await cliFixture();
});
afterAll(() => fixture.workspace.remove());

describe('keycard test (built CLI)', () => {
  it('passes the example policy tests (exit 0), summary alone on the last line', async () => {
    const { code, stdout } = await keycard('test', '--config', 'examples/keycard.yaml');
    expect(code).toBe(0);
    expect(stdout).toContain('examples/policies/orders.test.yaml');
    expect(stdout).toContain('examples/policies/catalog.test.yaml');
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('exits 1 when a case fails and 2 when a file is invalid', async () => {
    const failing = fixture.workspace.write(
      'tests/failing.test.yaml',
      'service: orders\ncases:\n  - name: alice refunds\n    request: { method: POST, path: /orders/1/refund }\n    caller: { subject: alice }\n    expect: { decision: allow }\n',
    );
    const failed = await keycard('test', '--config', fixture.config, failing);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✗ alice refunds');
    expect(failed.stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed');

    const invalid = fixture.workspace.write('tests/invalid.test.yaml', 'cases: []\n');
    const errored = await keycard('test', '--config', fixture.config, invalid, failing);
    expect(errored.code).toBe(2);
    expect(errored.stdout).toContain(`${invalid}:1:8 [invalid_value] cases:`);

    expect((await keycard('test', '--config', fixture.workspace.path('missing.yaml'))).code).toBe(2);
    expect((await keycard('test', '--config', fixture.config, '--format', 'xml')).code).toBe(2);
  });
});

describe('keycard check (built CLI)', () => {
  let server: KeycardProcess;
  beforeAll(async () => {
    server = await startKeycard(fixture.config);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('exits 0 allow, 1 deny, 2 error with --request', async () => {
    const read = fixture.workspace.write('read.json', { path: '/orders/42', service: 'orders' });
    const refund = fixture.workspace.write('refund.json', { method: 'POST', path: '/orders/42/refund', service: 'orders' });
    const bad = fixture.workspace.write('bad.json', { path: '/orders/42', verb: 'GET' });

    const allowed = await keycard('check', '--config', fixture.config, '--request', read, '--subject', 'alice');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('decision  allow 200 allowed by rule read');

    const denied = await keycard('check', '--config', fixture.config, '--request', refund, '--subject', 'alice');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('refund       allow  not applied: alice lacks role finance');

    expect((await keycard('check', '--config', fixture.config, '--request', refund, '--subject', 'alice', '--roles', 'finance')).code).toBe(0);

    const errored = await keycard('check', '--config', fixture.config, '--request', bad, '--subject', 'alice');
    expect(errored.code).toBe(2);
    expect(errored.stderr).toContain(`${bad}:3:3 [unknown_key] verb: unknown key "verb"`);

    expect((await keycard('check', '--config', fixture.config, '--subject', 'alice')).code).toBe(2);
  });

  it('keeps the token-based in-process mode and the --server mode working', async () => {
    const token = await signToken(fixture.key, { sub: 'alice' });
    const local = await keycard('check', '--config', fixture.config, '--service', 'orders', '--path', '/orders/42', '--token', token);
    expect(local.code).toBe(0);

    const remoteAllow = await keycard('check', '--server', server.grpcAddress, '--service', 'orders', '--path', '/orders/42', '--token', token);
    expect(remoteAllow.code).toBe(0);
    expect(remoteAllow.stdout).toContain('decision  allow 200 (gRPC status 0)');

    const remoteDeny = await keycard('check', '--server', server.grpcAddress, '--service', 'orders', '--method', 'POST', '--path', '/orders/42/refund', '--token', token, '--format', 'json');
    expect(remoteDeny.code).toBe(1);
    expect(JSON.parse(remoteDeny.stdout)).toMatchObject({ decision: 'deny', grpc_status: 7, http_status: 403, body: { reason: 'no_matching_rule' } });
  });
});
