import { afterEach, describe, expect, it } from 'vitest';
import { formatLintWarning, lintWarnings, type LintWarning } from '../../src/policy/lint-warnings.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import type { RoleBinding } from '../../src/state/store.js';
import { Workspace } from '../helpers/workspace.js';

const workspaces: Workspace[] = [];
afterEach(() => workspaces.splice(0).forEach((workspace) => workspace.remove()));

function warningsFor(files: Record<string, string>, roleBindings?: RoleBinding[]): LintWarning[] {
  const workspace = new Workspace();
  workspaces.push(workspace);
  for (const [name, text] of Object.entries(files)) workspace.write(`policies/${name}`, text);
  const policies = loadPolicies(workspace.path('policies'), { issuers: new Set(['test-idp']) });
  return lintWarnings({ policies, roleBindings }).map((warning) => ({ ...warning, file: warning.file.replace(/^.*\/policies\//, '') }));
}

describe('lint warnings', () => {
  it('warns about a shadowed allow rule at its line, naming the rule that shadows it', () => {
    const warnings = warningsFor({
      'orders.yaml': `service: orders
rules:
  - id: browse
    effect: allow
    match: { methods: [GET], paths: ["/orders/**"] }
    when: [{ role: [customer, support] }]
  - id: read-one
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ role: customer }]
`,
    });
    expect(warnings).toEqual([
      {
        code: 'shadowed_rule',
        file: 'orders.yaml',
        line: 7,
        column: 5,
        key: 'rules[1]',
        message: 'allow rule "read-one" never decides: the earlier allow rule "browse" (line 3) matches all its requests, and its conditions hold whenever those of "read-one" do',
      },
    ]);
  });

  it('warns about anonymous allow rules that allow more than GET, HEAD and OPTIONS', () => {
    const warnings = warningsFor({
      'site.yaml': `service: site
rules:
  - { id: read, effect: allow, match: { methods: [GET, HEAD, OPTIONS], paths: ["/pages/**"] }, anonymous: true }
  - { id: contact, effect: allow, match: { methods: [GET, POST], paths: [/contact] }, anonymous: true }
  - { id: everything, effect: allow, match: { paths: ["/open/**"] }, anonymous: true }
  - { id: writes, effect: allow, match: { methods: [POST], paths: ["/pages/**"] } }
`,
    });
    expect(warnings.map((warning) => [warning.line, warning.code, warning.key, warning.message])).toEqual([
      [4, 'anonymous_write', 'rules[1].match.methods', 'anonymous rule "contact" allows POST without a credential'],
      [
        5,
        'anonymous_write',
        'rules[2].anonymous',
        'anonymous rule "everything" allows every method without a credential; list read-only methods (GET, HEAD, OPTIONS) in match.methods',
      ],
    ]);
  });

  it('warns about a service without rules', () => {
    const warnings = warningsFor({ 'empty.yaml': 'service: empty\nhosts: [empty]\n', 'dry.yaml': 'service: dry\nmode: dry-run\nrules: []\n' });
    expect(warnings.map(formatLintWarning)).toEqual([
      'dry.yaml:1:10 warning [service_without_rules] service: service "dry" has no rules: every request to it would be denied (the service is in dry-run, so it is allowed and recorded)',
      'empty.yaml:1:10 warning [service_without_rules] service: service "empty" has no rules: every request to it is denied',
    ]);
  });

  it('warns about roles that no binding gives for the service, nested conditions included', () => {
    const files = {
      'orders.yaml': `service: orders
rules:
  - id: read
    effect: allow
    match: { methods: [GET] }
    when:
      - role: [customer, support]
      - anyOf: [{ role: finance }, { not: { role: intern } }]
  - { id: global, effect: allow, match: { methods: [POST] }, when: [{ role: admin }] }
`,
    };
    const bindings: RoleBinding[] = [
      { subject: 'alice', role: 'customer' },
      { subject: 'fiona', role: 'finance', service: 'billing' },
      { subject: 'fred', role: 'finance', service: 'payroll' },
      { subject: 'root', role: 'admin', service: 'orders' },
    ];
    const warnings = warningsFor(files, bindings);
    expect(warnings.map((warning) => [warning.line, warning.key, warning.message])).toEqual([
      [7, 'rules[0].when[0].role', 'role "support" is in no role binding of the seed'],
      [8, 'rules[0].when[1].anyOf[0].role', 'role "finance" is bound only for service billing, payroll, not for "orders"'],
      [8, 'rules[0].when[1].anyOf[1].not.role', 'role "intern" is in no role binding of the seed'],
    ]);
    expect(warnings.every((warning) => warning.code === 'unbound_role')).toBe(true);
    // Without a seed the bindings are unknown, so roles are not checked.
    expect(warningsFor(files)).toEqual([]);
  });
});
