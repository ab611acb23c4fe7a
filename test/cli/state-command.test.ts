// The argument layer of `keycard roles | revoke | tuples` in-process, against a settings file with
// a memory store: reads show the seeded state, writes are refused, bad input is exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeCommand, rolesCommand, tuplesCommand } from '../../src/cli/state/command.js';
import { MEMORY_STORE_REFUSAL, resolveActor, StateCommandError } from '../../src/cli/state/context.js';
import { UsageError } from '../../src/cli/usage.js';
import { capture } from './run-cli.js';
import { stateFixture, type StateFixture } from './state-fixture.js';

let fixture: StateFixture;
beforeAll(async () => {
  fixture = await stateFixture();
});
afterAll(() => fixture.close());

const withConfig = (args: string[]) => [...args, '--config', fixture.config];

describe('reads from a memory store show the seeded state', () => {
  it('roles list, in text and JSON', async () => {
    const text = await capture(() => rolesCommand(withConfig(['list'])));
    expect(text).toEqual({ code: 0, stdout: 'alice  customer  (global)\nfiona  finance   service orders\nsam    support   (global)', stderr: '' });
    const json = await capture(() => rolesCommand(withConfig(['list', 'fiona', '--format', 'json'])));
    expect(JSON.parse(json.stdout)).toEqual({ bindings: [{ subject: 'fiona', role: 'finance', service: 'orders' }] });
  });

  it('tuples list and check, revoke list', async () => {
    const listed = await capture(() => tuplesCommand(withConfig(['list', '--object', 'shop:9'])));
    expect(listed).toMatchObject({ code: 0, stdout: 'shop:9#owner@group:staff#member' });
    const yes = await capture(() => tuplesCommand(withConfig(['check', 'order:43#viewer@user:olga'])));
    expect(yes).toMatchObject({ code: 0, stdout: expect.stringContaining('chain: user:olga → group:staff#member → shop:9#owner') });
    const no = await capture(() => tuplesCommand(withConfig(['check', 'order:43#viewer@user:alice', '--format', 'json'])));
    expect(no.code).toBe(1);
    expect(JSON.parse(no.stdout)).toEqual({ tuple: 'order:43#viewer@user:alice', has: false });
    expect(await capture(() => revokeCommand(withConfig(['list'])))).toEqual({ code: 0, stdout: 'no revocations in force', stderr: '' });
  });
});

describe('writes to a memory store', () => {
  it.each([
    ['roles', 'grant', 'bob', 'finance'],
    ['roles', 'revoke', 'alice', 'customer'],
    ['revoke', 'token', 'jti-1'],
    ['revoke', 'subject', 'alice', '--before', 'now'],
    ['revoke', 'session', 'sid-1'],
    ['tuples', 'add', 'order:9#owner@user:bob'],
    ['tuples', 'remove', 'order:42#owner@user:alice'],
  ])('%s %s is refused with exit 2', async (group, ...args) => {
    const command = group === 'roles' ? rolesCommand : group === 'revoke' ? revokeCommand : tuplesCommand;
    const result = await capture(() => command(withConfig(args)));
    expect(result).toEqual({ code: 2, stdout: '', stderr: `keycard ${group} ${args[0]}: ${MEMORY_STORE_REFUSAL}` });
  });
});

describe('errors', () => {
  it('an invalid tuple is exit 2 with the schema problem', async () => {
    const result = await capture(() => tuplesCommand(withConfig(['check', 'order:42#ownr@user:alice'])));
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keycard tuples check: tuple order:42#ownr@user:alice: relation "order#ownr" is not declared in the relation schema; order has owner, shop, manager, viewer',
    });
    const filter = await capture(() => tuplesCommand(withConfig(['list', '--relation', 'nope'])));
    expect(filter).toMatchObject({ code: 2, stderr: 'keycard tuples list: --relation "nope" is not declared in the relation schema; no type declares it' });
  });

  it('an unreadable settings file is exit 2 with the located error', async () => {
    const result = await capture(() => rolesCommand(['list', '--config', fixture.workspace.path('missing.yaml')]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing.yaml [file_unreadable]');
  });

  it('usage errors name what is missing or wrong (the CLI prints them with the help, exit 2)', async () => {
    await expect(rolesCommand(withConfig(['grant', 'bob']))).rejects.toThrow(new UsageError('roles grant SUBJECT ROLE: got "bob"'));
    await expect(rolesCommand(withConfig(['list', 'a', 'b']))).rejects.toThrow(new UsageError('roles list [SUBJECT]: got "a" "b"'));
    await expect(rolesCommand(withConfig(['list', '--service', 'orders']))).rejects.toThrow(new UsageError('roles list: --service is for grant and revoke'));
    await expect(rolesCommand([])).rejects.toThrow(new UsageError('roles: give grant, revoke or list'));
    await expect(tuplesCommand(withConfig(['check', 'order:1#owner@user:a', '--object', 'order:1']))).rejects.toThrow(
      new UsageError('tuples: --object, --relation and --subject are for tuples list'),
    );
    await expect(tuplesCommand(withConfig(['list', '--format', 'yaml']))).rejects.toThrow(new UsageError('--format: "yaml" is not text or json'));
    await expect(tuplesCommand(withConfig(['list', '--color']))).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });
});

describe('the actor', () => {
  it('is --actor, else $KEYCARD_ACTOR, else the OS user', () => {
    expect(resolveActor('flag-user', { KEYCARD_ACTOR: 'env-user' })).toBe('flag-user');
    expect(resolveActor(undefined, { KEYCARD_ACTOR: 'env-user' })).toBe('env-user');
    expect(resolveActor(undefined, {})).toMatch(/^\S+$/);
    expect(resolveActor(undefined, { KEYCARD_ACTOR: '' })).toBe(resolveActor(undefined, {}));
    expect(() => resolveActor('', {})).toThrow(StateCommandError);
    expect(() => resolveActor('bad\nname', {})).toThrow('--actor: give a name of 1 to 256 characters without control characters');
  });
});
