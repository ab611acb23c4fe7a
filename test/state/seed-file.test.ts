// Seed files with relation tuples: parsed, located errors, checked against the relation schema.
import { afterEach, describe, expect, it } from 'vitest';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { createStore } from '../../src/state/create-store.js';
import { loadSeedFile } from '../../src/state/seed-file.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => workspace?.remove());

const SCHEMA = new RelationSchema({
  subjectType: 'user',
  maxDepth: 8,
  maxReads: 256,
  types: { group: { member: [] }, order: { owner: [], viewer: ['owner'] }, doc: { viewer: [] } },
});

function seedFile(text: string): string {
  workspace = new Workspace();
  return workspace.write('seed.yaml', text);
}

/** `schema: null` loads without a relation schema. */
function seedError(text: string, schema: RelationSchema | null = SCHEMA): string[] {
  const file = seedFile(text);
  return configError(() => loadSeedFile(file, schema ?? undefined), 'seed loaded without error').message.replaceAll(file, 'seed.yaml').split('\n');
}

describe('seed file tuples', () => {
  it('loads tuples next to role bindings', () => {
    const seed = loadSeedFile(
      seedFile(`
roleBindings:
  - { subject: alice, roles: [customer] }
tuples:
  - order:42#owner@user:alice
  - group:eng#member@user:bob
  - doc:1#viewer@group:eng#member
`),
      SCHEMA,
    );
    expect(seed.roleBindings).toEqual([{ subject: 'alice', role: 'customer' }]);
    expect(seed.tuples).toEqual([
      { object: 'order:42', relation: 'owner', subject: 'user:alice' },
      { object: 'group:eng', relation: 'member', subject: 'user:bob' },
      { object: 'doc:1', relation: 'viewer', subject: 'group:eng#member' },
    ]);
  });

  it('has no tuples when the section is left out', () => {
    expect(loadSeedFile(seedFile('roleBindings: []\n')).tuples).toEqual([]);
  });

  it('locates every malformed tuple by file, line, column and key', () => {
    expect(seedError('tuples:\n  - order:42#owner@user:alice\n  - order42#owner@user:bob\n  - "doc:1#viewer@group:eng#"\n  - 42\n')).toEqual([
      'seed.yaml:3:5 [invalid_value] tuples[1]: object "order42" is not TYPE:ID',
      'seed.yaml:4:5 [invalid_value] tuples[2]: subject relation is empty',
      'seed.yaml:5:5 [invalid_value] tuples[3]: Invalid input: expected string, received number',
    ]);
  });

  it('names tuples whose relations the schema does not declare', () => {
    expect(seedError('tuples:\n  - order:42#owner@user:alice\n  - order:42#onwer@user:alice\n  - doc:1#viewer@group:eng#admin\n')).toEqual([
      'seed.yaml:3:5 [unknown_relation] tuples[1]: relation "order#onwer" is not declared in the relation schema',
      'seed.yaml:4:5 [unknown_relation] tuples[2]: relation "group#admin" is not declared in the relation schema',
    ]);
  });

  it('says so when tuples are seeded without a relations section', () => {
    expect(seedError('tuples:\n  - order:42#owner@user:alice\n', null)).toEqual([
      'seed.yaml:2:5 [unknown_relation] tuples[0]: relation "order#owner" is not declared in the relation schema (the settings file has no "relations" section)',
    ]);
  });

  it('puts the seeded tuples into the memory store', async () => {
    const file = seedFile('tuples:\n  - order:42#owner@user:alice\n');
    const store = createStore({ type: 'memory', seedFile: file }, SCHEMA);
    expect(await store.subjectsOf('order:42', 'owner')).toEqual(['user:alice']);
  });
});

describe('seed file subjects', () => {
  it('loads subject records into the store\'s directory', async () => {
    const seed = loadSeedFile(seedFile(`
subjects:
  - { id: alice, properties: { email: alice@example.com, level: 3, teams: [a, b] } }
  - { id: bob, properties: {} }
`));
    expect(seed.subjects).toEqual([
      { id: 'alice', properties: { email: 'alice@example.com', level: 3, teams: ['a', 'b'] } },
      { id: 'bob', properties: {} },
    ]);
    const store = createStore({ type: 'memory', seedFile: workspace!.dir + '/seed.yaml' } as never);
    expect(await store.subjectProperties('alice')).toMatchObject({ level: 3 });
  });

  it('reports a malformed id, a listed-twice subject and an oversized record at their line', () => {
    expect(seedError(`
subjects:
  - { id: "two words", properties: {} }
  - { id: bob, properties: { big: "${'x'.repeat(66_000)}" } }
  - { id: carol, properties: {} }
  - { id: carol, properties: {} }
`)).toEqual([
      expect.stringMatching(/^seed\.yaml:3:\d+ \[invalid_value\] subjects\[0\]\.id: a subject id is 1 to 256 characters/),
      expect.stringMatching(/^seed\.yaml:4:\d+ \[invalid_value\] subjects\[1\]\.properties: \d+ bytes of JSON, more than 65536/),
      expect.stringMatching(/^seed\.yaml:6:\d+ \[invalid_value\] subjects\[3\]\.id: subject "carol" is listed twice/),
    ]);
  });
});
