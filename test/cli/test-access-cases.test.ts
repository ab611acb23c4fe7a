// `keycard test` with access questions (`access:` instead of `request:`): decided by the
// AccessDecider against the file's state, checked against the policies, explained on failure.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testCommand } from '../../src/cli/test.js';
import { cliFixture, type CliFixture } from './fixture.js';
import { capture } from './run-cli.js';

let fixture: CliFixture;
beforeEach(async () => {
  fixture = await cliFixture();
  fixture.workspace.write(
    'policies/docs.yaml',
    `service: docs
rules:
  - { id: read, effect: allow, match: { actions: [can_read], resources: [doc] }, when: [{ role: reader }] }
  - id: edit-own
    effect: allow
    match: { actions: [can_edit], resources: [doc] }
    when: [{ attribute: { name: resource.properties.owner, equals: { attribute: subject.properties.email } } }]
`,
  );
});
afterEach(() => fixture.workspace.remove());

const run = (...args: string[]) => capture(() => testCommand(['--config', fixture.config, ...args]));

const STATE = `
state:
  roleBindings: [{ subject: rita, roles: [reader], service: docs }]
  subjects: [{ id: rita, properties: { email: rita@example.com } }]
`;

describe('keycard test: access cases', () => {
  it('decides access questions with the file\'s state, roles and directory included', async () => {
    fixture.workspace.write(
      'policies/docs.test.yaml',
      `${STATE}
cases:
  - name: readers read
    access: { subject: { id: rita }, action: { name: can_read }, resource: { type: doc, id: "1" } }
    expect: { decision: allow, rule: read }
  - name: owners edit
    access: { subject: { id: rita }, action: { name: can_edit }, resource: { type: doc, id: "1", properties: { owner: rita@example.com } } }
    expect: { decision: allow, rule: edit-own }
  - name: wrong expectation
    access: { subject: { id: sam }, action: { name: can_read }, resource: { type: doc, id: "1" } }
    expect: { decision: allow }
`,
    );
    const { code, stdout } = await run(fixture.workspace.path('policies/docs.test.yaml'));
    expect(code).toBe(1);
    expect(stdout).toContain('  ✓ readers read');
    expect(stdout).toContain('  ✓ owners edit');
    expect(stdout).toContain('  ✗ wrong expectation');
    expect(stdout).toContain('question  can_read on doc "1" (access question)');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('2 passed, 1 failed');
  });

  it('refuses a case with both or neither of request and access, and a caller beside access', async () => {
    fixture.workspace.write(
      'policies/docs.test.yaml',
      `cases:
  - name: both
    request: { path: /x, service: docs }
    access: { subject: { id: a }, action: { name: can_read }, resource: { type: doc, id: "1" } }
    expect: { decision: deny }
  - name: neither
    expect: { decision: deny }
`,
    );
    const first = await run(fixture.workspace.path('policies/docs.test.yaml'));
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(/cases\[0\]\.access: a case has either request \(an HTTP request\) or access \(an access question\)/);
    expect(first.stdout).toMatch(/cases\[1\]: a case has either request/);

    fixture.workspace.write(
      'policies/docs.test.yaml',
      `cases:
  - name: caller
    access: { subject: { id: a }, action: { name: can_read }, resource: { type: doc, id: "1" } }
    caller: { subject: a }
    expect: { decision: deny }
`,
    );
    const second = await run(fixture.workspace.path('policies/docs.test.yaml'));
    expect(second.code).toBe(2);
    expect(second.stdout).toMatch(/cases\[0\]\.caller: an access question names its subject in access\.subject/);
  });

  it('reports an unknown type and an unknown rule at their case', async () => {
    fixture.workspace.write(
      'policies/docs.test.yaml',
      `cases:
  - name: unknown type
    access: { subject: { id: a }, action: { name: can_read }, resource: { type: note, id: "1" } }
    expect: { decision: deny }
  - name: expected unknown type
    access: { subject: { id: a }, action: { name: can_read }, resource: { type: note, id: "1" } }
    expect: { reason: unknown_resource_type }
  - name: unknown rule
    access: { subject: { id: a }, action: { name: can_read }, resource: { type: doc, id: "1" } }
    expect: { rule: nope }
`,
    );
    const { code, stdout } = await run(fixture.workspace.path('policies/docs.test.yaml'));
    expect(code).toBe(2);
    expect(stdout).toMatch(/cases\[0\]\.access\.resource: no policy's access rules name resource type "note"/);
    expect(stdout).not.toMatch(/cases\[1\]/);
    expect(stdout).toMatch(/cases\[2\]\.expect\.rule: policy "docs" has no rule "nope"/);
  });
});
