// The built CLI (`node dist/cli.js`, from `make build`) with a memory store: every write is refused
// with exit 2 (it could only change the CLI's own copy of the state), nothing is audited, and the
// reads show the seeded state.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_STORE_REFUSAL } from '../../src/cli/state/context.js';
import { runCli } from '../helpers/keycard-process.js';
import { stateFixture, type StateFixture } from './state-fixture.js';

let fixture: StateFixture;
beforeAll(async () => {
  fixture = await stateFixture();
});
afterAll(() => fixture.close());

const keycard = (...args: string[]) => runCli([...args, '--config', fixture.config]);

describe('state commands with a memory store (built CLI)', () => {
  it('refuses every write with exit 2 and a clear message, and audits nothing', async () => {
    const writes = [
      ['roles', 'grant', 'bob', 'finance', '--service', 'orders'],
      ['roles', 'revoke', 'alice', 'customer'],
      ['revoke', 'token', 'jti-1'],
      ['revoke', 'subject', 'alice'],
      ['revoke', 'session', 'sid-1'],
      ['tuples', 'add', 'order:9#owner@user:bob'],
      ['tuples', 'remove', 'order:42#owner@user:alice'],
    ];
    const results = await Promise.all(writes.map((args) => keycard(...args, '--actor', 'ops')));
    results.forEach((result, index) => {
      const [group, verb] = writes[index]!;
      expect(result).toEqual({ code: 2, stdout: '', stderr: `keycard ${group} ${verb}: ${MEMORY_STORE_REFUSAL}\n` });
    });
    const audit = fixture.workspace.path('audit.log');
    expect(existsSync(audit) ? readFileSync(audit, 'utf8') : '').toBe('');
  });

  it('lists and checks the seeded state', async () => {
    const roles = await keycard('roles', 'list', 'alice');
    expect(roles).toEqual({ code: 0, stdout: 'alice  customer  (global)\n', stderr: '' });
    const check = await keycard('tuples', 'check', 'order:43#viewer@user:olga', '--format', 'json');
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ has: true, chain: ['user:olga', 'group:staff#member', 'shop:9#owner', 'order:43#manager', 'order:43#viewer'] });
    expect((await keycard('tuples', 'check', 'order:42#viewer@user:olga')).code).toBe(1);
    expect(await keycard('revoke', 'list')).toEqual({ code: 0, stdout: 'no revocations in force\n', stderr: '' });
  });

  it('exits 2 on a tuple the schema does not declare, and on usage errors (with the help)', async () => {
    const invalid = await keycard('tuples', 'check', 'order:42#ownr@user:olga');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('relation "order#ownr" is not declared in the relation schema; order has owner, shop, manager, viewer');
    const usage = await keycard('revoke', 'token');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^keycard: revoke token JTI: got no arguments\n\nkeycard — external authorization for Envoy/);
    expect(usage.stderr).toContain('keycard revoke token JTI | subject SUBJECT [--before ISO|now] | session SID | list');
  });
});
