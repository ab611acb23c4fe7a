// `keycard lint` checks relation conditions and seeded tuples against the relation schema, and
// reports the problems of policies and seed together.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lint } from '../../src/cli/lint.js';
import { ConfigError } from '../../src/errors.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  vi.restoreAllMocks();
});

const POLICY = `service: orders
rules:
  - id: own
    effect: allow
    match: { paths: ["/orders/{id}"] }
    when: [{ relation: "order:{id}#owner" }]
`;

/** A workspace with a seeded tuple, the policy and these settings; returns the settings file. */
function lintWorkspace(settings: string): { dir: string; file: string } {
  workspace = new Workspace();
  workspace.write('seed.yaml', 'tuples:\n  - order:42#owner@user:alice\n');
  workspace.write('policies/orders.yaml', POLICY);
  return { dir: workspace.dir, file: workspace.write('keycard.yaml', settings) };
}

async function lintErrors(settings: string): Promise<string[]> {
  const { dir, file } = lintWorkspace(settings);
  const error = await lint(['--config', file]).then(
    () => new Error('lint found no problem'),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConfigError)) throw error;
  return error.message.replaceAll(dir, '.').split('\n');
}

describe('keycard lint with relations', () => {
  it('passes the examples that `make run` uses', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await lint(['--config', fileURLToPath(new URL('../../examples/keycard.yaml', import.meta.url))]);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^ok: 3 policies, \d+ rules/));
  });

  it('reports relation conditions and tuples that no schema declares, together', async () => {
    const errors = await lintErrors('policies: { dir: policies }\nstore: { type: memory, seedFile: seed.yaml }\n');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/policies\/orders\.yaml:6:24 \[unknown_relation\] rules\[0\]\.when\[0\]\.relation: relation "order#owner" is not declared in the relation schema$/);
    expect(errors[1]).toBe(
      './seed.yaml:2:5 [unknown_relation] tuples[0]: relation "order#owner" is not declared in the relation schema (the settings file has no "relations" section)',
    );
  });

  it('accepts them once the settings declare the relation', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { file } = lintWorkspace('policies: { dir: policies }\nstore: { type: memory, seedFile: seed.yaml }\nrelations:\n  types:\n    order: { owner: [] }\n');
    await lint(['--config', file]);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^ok: 1 policies, 1 rules/));
  });
});
