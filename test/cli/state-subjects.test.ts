// `keycard subjects set | get | list | rm`: the subject directory. In-process against the memory
// store of a keycard (each change seen by the next decision, audited with the property names only),
// and the built CLI against a shared Redis store (argument forms, exit codes, the audit log).
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StateCommandError } from '../../src/cli/state/context.js';
import { subjectOutput, subjectsOutput } from '../../src/cli/state/subject-commands.js';
import { getSubject, listSubjects, propertiesFromFlags, removeSubject, setSubject } from '../../src/cli/state/subjects.js';
import { runCli } from '../helpers/keycard-process.js';
import { RedisServer } from '../helpers/redis-server.js';
import { settingsYaml, Workspace } from '../helpers/workspace.js';
import { stateFixture, type StateFixture } from './state-fixture.js';

describe('keycard subjects (in process, memory store)', () => {
  let fixture: StateFixture;
  beforeAll(async () => {
    fixture = await stateFixture();
  });
  afterAll(() => fixture.close());
  beforeEach(() => {
    fixture.audited.length = 0;
  });

  it('sets, reads, lists and removes records, auditing the subject and property names (never values)', async () => {
    const context = fixture.context();
    const created = await setSubject(context, 'alice', { email: 'alice@example.com', name: 'Alice' });
    expect(created).toMatchObject({ action: 'subjects.set', changed: true, message: 'created subject alice (email, name)' });
    expect(await getSubject(context, 'alice')).toEqual({ id: 'alice', properties: { email: 'alice@example.com', name: 'Alice' } });
    expect(await setSubject(context, 'alice', { email: 'alice@example.com', name: 'Alice' })).toMatchObject({ changed: false, message: 'unchanged: subject alice (email, name)' });
    // set replaces the record: name is gone.
    expect(await setSubject(context, 'alice', { email: 'a@example.com' })).toMatchObject({ changed: true, message: 'replaced subject alice (email)' });
    await setSubject(context, 'bob', {});
    expect((await listSubjects(context)).map((record) => record.id)).toEqual(['alice', 'bob']);
    expect(await removeSubject(context, 'bob')).toMatchObject({ action: 'subjects.remove', changed: true, message: 'removed subject bob' });
    expect(await removeSubject(context, 'bob')).toMatchObject({ changed: false, message: 'subject bob has no record: nothing to remove' });
    expect(await getSubject(context, 'bob')).toBeUndefined();
    expect(fixture.audited).toEqual([
      { actor: 'ops', action: 'subjects.set', target: { subject: 'alice', properties: 'email,name' }, store: 'memory' },
      { actor: 'ops', action: 'subjects.set', target: { subject: 'alice', properties: 'email,name' }, store: 'memory' },
      { actor: 'ops', action: 'subjects.set', target: { subject: 'alice', properties: 'email' }, store: 'memory' },
      { actor: 'ops', action: 'subjects.set', target: { subject: 'bob', properties: '' }, store: 'memory' },
      { actor: 'ops', action: 'subjects.remove', target: { subject: 'bob' }, store: 'memory' },
      { actor: 'ops', action: 'subjects.remove', target: { subject: 'bob' }, store: 'memory' },
    ]);
    await removeSubject(context, 'alice');
  });

  it('refuses malformed ids, properties and flags without writing or auditing', async () => {
    const context = fixture.context();
    await expect(setSubject(context, 'two words', {})).rejects.toThrow(StateCommandError);
    await expect(setSubject(context, 'x', { big: 'y'.repeat(70_000) })).rejects.toThrow(/subject x: \d+ bytes of JSON, more than 65536/);
    expect(() => propertiesFromFlags(['novalue'])).toThrow('--property "novalue" is not NAME=VALUE');
    expect(propertiesFromFlags(['a=1', 'b=x=y', 'a=2'])).toEqual({ a: '2', b: 'x=y' });
    expect(await getSubject(context, 'x')).toBeUndefined();
    expect(fixture.audited).toEqual([]);
  });

  it('prints a record, a missing one (exit 1) and a list', () => {
    expect(subjectOutput('alice', { id: 'alice', properties: { email: 'a@x' } })).toEqual({ code: 0, text: 'alice  {"email":"a@x"}', json: { id: 'alice', found: true, properties: { email: 'a@x' } } });
    expect(subjectOutput('bob', undefined)).toEqual({ code: 1, text: 'subject bob has no record', json: { id: 'bob', found: false } });
    expect(subjectsOutput([]).text).toBe('no subjects');
    expect(subjectsOutput([{ id: 'a', properties: {} }, { id: 'bobby', properties: { n: 1 } }]).text).toBe('a      {}\nbobby  {"n":1}');
  });
});

describe('keycard subjects (built CLI, Redis store)', () => {
  let redis: RedisServer;
  let workspace: Workspace;
  let config: string;
  beforeAll(async () => {
    redis = await RedisServer.start();
    workspace = new Workspace().writeAll({ 'seed.yaml': 'subjects:\n  - { id: seeded, properties: { team: red } }\n', 'policies/p.yaml': 'service: p\n', 'jwks.json': { keys: [] } });
    config = workspace.write('keycard.yaml', settingsYaml().replace('store: { type: memory, seedFile: seed.yaml }', `store: { type: redis, url: "${redis.url()}", seedFile: seed.yaml }`));
  }, 30_000);
  afterAll(async () => {
    await redis?.remove();
    workspace?.remove();
  });
  const keycard = (...args: string[]) => runCli([...args, '--config', config, '--actor', 'ops-oncall']);

  it('sets from --property and --json, gets, lists and removes, each change in the audit log', async () => {
    expect(await keycard('subjects', 'set', 'alice', '--property', 'email=alice@example.com', '--property', 'name=Alice')).toMatchObject({ code: 0, stdout: 'created subject alice (email, name)\n' });
    const json = workspace.write('bob.json', JSON.stringify({ email: 'bob@example.com', level: 3, teams: ['a'] }));
    expect((await keycard('subjects', 'set', 'bob', '--json', json, '--format', 'json')).stdout).toContain('"action": "subjects.set"');
    expect(await keycard('subjects', 'get', 'bob')).toMatchObject({ code: 0, stdout: 'bob  {"email":"bob@example.com","level":3,"teams":["a"]}\n' });
    expect(await keycard('subjects', 'get', 'nobody')).toMatchObject({ code: 1, stdout: 'subject nobody has no record\n' });
    // The seed applies to a new Redis store once, subjects included.
    expect((await keycard('subjects', 'list')).stdout).toBe('alice   {"email":"alice@example.com","name":"Alice"}\nbob     {"email":"bob@example.com","level":3,"teams":["a"]}\nseeded  {"team":"red"}\n');
    expect(await keycard('subjects', 'rm', 'alice')).toMatchObject({ code: 0, stdout: 'removed subject alice\n' });
    const audit = readFileSync(workspace.path('audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.map(({ actor, action, target }) => ({ actor, action, target }))).toEqual([
      { actor: 'ops-oncall', action: 'subjects.set', target: { subject: 'alice', properties: 'email,name' } },
      { actor: 'ops-oncall', action: 'subjects.set', target: { subject: 'bob', properties: 'email,level,teams' } },
      { actor: 'ops-oncall', action: 'subjects.remove', target: { subject: 'alice' } },
    ]);
    expect(readFileSync(workspace.path('audit.log'), 'utf8')).not.toContain('example.com');
  });

  it('rejects bad usage (exit 2) and bad input without writing', async () => {
    expect((await keycard('subjects', 'set', 'x')).code).toBe(2);
    expect((await keycard('subjects', 'set', 'x', '--property', 'a=1', '--json', 'f.json')).code).toBe(2);
    expect((await keycard('subjects', 'get', 'x', '--property', 'a=1')).code).toBe(2);
    expect((await keycard('subjects', 'frob')).code).toBe(2);
    const bad = workspace.write('bad.json', '[1, 2]');
    expect(await keycard('subjects', 'set', 'x', '--json', bad)).toMatchObject({ code: 2, stderr: expect.stringContaining('properties must be a JSON object') });
    expect((await keycard('subjects', 'get', 'x')).code).toBe(1);
    expect(existsSync(workspace.path('audit.log')) ? readFileSync(workspace.path('audit.log'), 'utf8') : '').not.toContain('"subject":"x"');
  });
});
