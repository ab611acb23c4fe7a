// `keycard lint`: errors exit 2, warnings are printed with file:line and code and exit 0 (1 with
// --strict), and a summary line ends the output.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { lintCommand } from '../../src/cli/lint.js';
import { Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

let workspace: Workspace | undefined;
afterEach(() => workspace?.remove());

const SETTINGS = 'policies: { dir: policies }\nstore: { type: memory, seedFile: seed.yaml }\n';
const SEED = 'roleBindings:\n  - { subject: alice, roles: [customer] }\n';
const POLICY = `service: orders
rules:
  - id: browse
    effect: allow
    match: { methods: [GET], paths: ["/orders/**"] }
    when: [{ role: customer }]
  - id: read
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ role: customer }]
  - id: open
    effect: allow
    match: { paths: [/feedback] }
    anonymous: true
`;

function setUp(files: Record<string, string>): string {
  workspace = new Workspace().writeAll(files);
  return workspace.path('keycard.yaml');
}

/** Output lines with the workspace directory taken out. */
const lines = (text: string) => text.replaceAll(`${workspace!.dir}/`, '').split('\n');

describe('keycard lint', () => {
  it('passes the examples that `make run` uses without warnings', async () => {
    const result = await capture(async () => lintCommand(['--config', fileURLToPath(new URL('../../examples/keycard.yaml', import.meta.url))]));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: 3 policies, \d+ rules \(version [0-9a-f]{12}\); 0 warnings$/);
  });

  it('prints each warning with file:line:column, code and key, then a summary; exits 0', async () => {
    const config = setUp({ 'keycard.yaml': SETTINGS, 'seed.yaml': SEED, 'policies/orders.yaml': POLICY, 'policies/empty.yaml': 'service: empty\n' });
    const result = await capture(async () => lintCommand(['--config', config]));
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const out = lines(result.stdout);
    expect(out.slice(0, 3)).toEqual([
      'policies/empty.yaml:1:10 warning [service_without_rules] service: service "empty" has no rules: every request to it is denied',
      'policies/orders.yaml:7:5 warning [shadowed_rule] rules[1]: allow rule "read" never decides: the earlier allow rule "browse" (line 3) matches all its requests, and its conditions hold whenever those of "read" do',
      'policies/orders.yaml:14:16 warning [anonymous_write] rules[2].anonymous: anonymous rule "open" allows every method without a credential; list read-only methods (GET, HEAD, OPTIONS) in match.methods',
    ]);
    expect(out[3]).toMatch(/^ok: 2 policies, 3 rules \(version [0-9a-f]+\); 3 warnings$/);
    expect(out).toHaveLength(4);
  });

  it('exits 1 for warnings with --strict', async () => {
    const config = setUp({ 'keycard.yaml': SETTINGS, 'seed.yaml': SEED, 'policies/orders.yaml': POLICY.replace('role: customer }]\n  - id: read', 'role: intern }]\n  - id: read') });
    const result = await capture(async () => lintCommand(['--config', config, '--strict']));
    expect(result.code).toBe(1);
    const out = lines(result.stdout);
    expect(out[0]).toBe('policies/orders.yaml:6:20 warning [unbound_role] rules[0].when[0].role: role "intern" is in no role binding of the seed');
    expect(out.at(-1)).toMatch(/^failed \(--strict\): 1 policies, 3 rules \(version [0-9a-f]+\); 2 warnings$/);
  });

  it('exits 0 with --strict when there is nothing to warn about', async () => {
    const config = setUp({ 'keycard.yaml': SETTINGS, 'seed.yaml': SEED, 'policies/orders.yaml': POLICY.split('  - id: read')[0]! });
    const result = await capture(async () => lintCommand(['--config', config, '--strict']));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: 1 policies, 1 rules \(version [0-9a-f]+\); 0 warnings$/);
  });

  it('exits 2 for errors, prints every located error and a summary, and no warnings', async () => {
    const config = setUp({
      'keycard.yaml': SETTINGS,
      'seed.yaml': 'roleBindings:\n  - { subject: alice }\n',
      'policies/orders.yaml': POLICY.replace('effect: allow', 'effect: permit'),
    });
    const result = await capture(async () => lintCommand(['--config', config, '--strict']));
    expect(result.code).toBe(2);
    const errors = lines(result.stderr);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^policies\/orders\.yaml:4:13 \[invalid_value\] rules\[0\]\.effect: /);
    expect(errors[1]).toMatch(/seed\.yaml:2:5 \[missing_key\] roleBindings\[0\]\.roles: required key is missing$/);
    expect(result.stdout).toBe('failed: 2 errors');
  });

  it('exits 2 when the settings file itself is invalid', async () => {
    const config = setUp({ 'keycard.yaml': 'policies: { dri: policies }\n' });
    const result = await capture(async () => lintCommand(['--config', config]));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/keycard\.yaml:1:\d+ \[unknown_key\] policies\.dri: unknown key "dri"/);
    expect(result.stdout).toMatch(/^failed: \d+ errors?$/);
  });
});
