// `keycard coverage` and `keycard diff` through the built CLI (`node dist/cli.js`, from `make
// build`): the commands are wired in, and their exit statuses reach the shell for CI gates.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/keycard-process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const keycard = (...args: string[]) => runCli(args, REPO);

describe('keycard coverage and diff (built CLI)', () => {
  it('coverage: 0 for a clean service, 2 for an unreachable operation, 1 for warnings with --strict', async () => {
    expect((await keycard('coverage', '--config', 'test/fixtures/coverage/clean/keycard.yaml', '--strict')).code).toBe(0);
    const unreachable = await keycard('coverage', '--config', 'test/fixtures/coverage/unreachable/keycard.yaml');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stdout).toContain('operation_unreachable');
    expect((await keycard('coverage', '--config', 'test/fixtures/coverage/dead-rule/keycard.yaml', '--strict')).code).toBe(1);
  });

  it('diff: 1 while a loss is unacknowledged, 0 with the accept file', async () => {
    const args = ['diff', '--config', 'test/fixtures/diff/keycard.yaml', '--from', 'test/fixtures/diff/old', '--to', 'test/fixtures/diff/new'];
    const blocked = await keycard(...args);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout.trimEnd().split('\n').at(-1)).toBe('3 lost (0 accepted, 3 blocking), 6 gained');
    expect((await keycard(...args, '--accept', 'test/fixtures/diff/accept.yaml')).code).toBe(0);
  });

  it('usage errors exit 2 with the usage text', async () => {
    const run = await keycard('diff', '--to', 'test/fixtures/diff/new');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('keycard: diff needs --from DIR');
    expect(run.stderr).toContain('keycard coverage [--config FILE]');
  });
});
