// A running keycard with the AuthZEN listener on, for the AuthZEN tests: a small todo app.
// Users have roles and directory entries (email, department); todos are owned through relation
// tuples; the policy answers HTTP routes (for Envoy Check) and abstract actions (AuthZEN) alike.
import { Keycard } from '../../src/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { Workspace } from '../helpers/workspace.js';

export const TODO_POLICY = `
service: todos
hosts: [todos.svc]
authentication: { issuers: [test-idp] }
authzen:
  callers:
    - { subject: svc-todos }
    - { role: pdp-client }
rules:
  # The HTTP API (Envoy Check)
  - id: http-read
    effect: allow
    match: { methods: [GET], paths: ["/todos", "/todos/{id}"] }
    when: [{ role: [viewer, editor, admin] }]
  - id: http-create
    effect: allow
    match: { methods: [POST], paths: ["/todos"] }
    when: [{ role: [editor, admin] }]
  - id: http-update-own
    effect: allow
    match: { methods: [PUT], paths: ["/todos/{id}"] }
    when: [{ role: editor }, { relation: "todo:{id}#owner" }]
  - id: http-delete-any
    effect: allow
    match: { methods: [DELETE], paths: ["/todos/{id}"] }
    when: [{ role: admin }, { attribute: { name: subject.properties.department, equals: ops } }]
  # The same permissions as abstract actions (AuthZEN)
  - id: read
    effect: allow
    match: { actions: [can_read_todos], resources: [todo] }
    when: [{ role: [viewer, editor, admin] }]
  - id: create
    effect: allow
    match: { actions: [can_create_todo], resources: [todo] }
    when: [{ role: [editor, admin] }]
  - id: update-own
    effect: allow
    match: { actions: [can_update_todo], resources: [todo] }
    when: [{ role: editor }, { relation: "todo:{id}#owner" }]
  - id: delete-any
    effect: allow
    match: { actions: [can_delete_todo], resources: [todo] }
    when: [{ role: admin }, { attribute: { name: subject.properties.department, equals: ops } }]
  - id: step-up-export
    effect: allow
    match: { actions: [can_export_todos], resources: [todo] }
    when: [{ role: admin }, { mfa: true }]
`;

/** Another service: svc-todos may not ask about it. */
export const BILLING_POLICY = `
service: billing
hosts: [billing.svc]
authentication: { issuers: [test-idp] }
authzen:
  callers: [{ subject: svc-billing }]
rules:
  - id: pay
    effect: allow
    match: { actions: [can_pay], resources: [invoice] }
    when: [{ role: payer }]
`;

export const SEED = `
roleBindings:
  - { subject: rick, roles: [viewer], service: todos }
  - { subject: beth, roles: [editor], service: todos }
  - { subject: morty, roles: [editor], service: todos }
  - { subject: jerry, roles: [admin], service: todos }
  - { subject: summer, roles: [admin], service: todos }
  - { subject: svc-pdp, roles: [pdp-client], service: todos }
tuples:
  - todo:1#owner@user:beth
  - todo:2#owner@user:morty
  - todo:3#owner@user:beth
  - todo:4#owner@group:team#member
  - group:team#member@user:morty
subjects:
  - { id: rick, properties: { email: rick@the-citadel.com, department: science } }
  - { id: beth, properties: { email: beth@the-smiths.com, department: medicine } }
  - { id: morty, properties: { email: morty@the-smiths.com, department: school } }
  - { id: jerry, properties: { email: jerry@the-smiths.com, department: unemployed } }
  - { id: summer, properties: { email: summer@the-smiths.com, department: ops } }
`;

export const USERS = ['rick', 'beth', 'morty', 'jerry', 'summer', 'nobody'];

export interface AuthzenFixture {
  readonly keycard: Keycard;
  readonly workspace: Workspace;
  readonly key: TestKey;
  readonly grpcPort: number;
  readonly authzenPort: number;
  readonly base: string;
  /** A bearer token for `sub` from the test issuer. */
  token(sub: string, claims?: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export interface TodoSettingsOptions {
  /** The issuer's keys: `jwksFile: jwks.json` unless given (with any other issuer lines, indented as the first). */
  readonly issuerKeys?: string;
  /** Top-level lines before `policies:`. */
  readonly topLevel?: string;
  /** The AuthZEN listener's port; 0 (any) unless given. */
  readonly authzenPort?: number;
  /** More lines of the `authzen:` block (unindented: they are indented here). */
  readonly authzen?: string;
  readonly logLevel?: string;
  /** Lines appended at the end. */
  readonly extra?: string;
}

/** The settings of the todo app's keycard: test-idp (ES256), the memory store seeded with SEED, todo relations, the AuthZEN listener. */
export function todoSettingsYaml(options: TodoSettingsOptions = {}): string {
  const { issuerKeys = 'jwksFile: jwks.json', topLevel, authzenPort = 0, authzen, logLevel = 'warn', extra = '' } = options;
  return `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - name: test-idp
    issuer: https://idp.test.example/
    audiences: [shop]
    ${issuerKeys}
    algorithms: [ES256]
${topLevel ?? ''}
policies: { dir: policies, watch: false }
store: { type: memory, seedFile: seed.yaml }
relations:
  subjectType: user
  types:
    group: { member: [] }
    todo: { owner: [] }
audit: { output: "off" }
log: { level: ${logLevel} }
authzen:
  listen: 127.0.0.1:${authzenPort}
  authentication: { credentials: [{ jwt: { issuers: [test-idp] } }] }
${authzen === undefined ? '' : `  ${authzen}`}
${extra}
`;
}

/** `authzenExtra`: lines appended to the settings (under `authzen:` when indented); `files`: more files in the workspace. */
export async function startAuthzenKeycard(authzenExtra = '', files: Readonly<Record<string, string>> = {}): Promise<AuthzenFixture> {
  const key = await makeKey('ES256');
  const workspace = new Workspace().writeAll({
    'keycard.yaml': todoSettingsYaml({
      topLevel: 'stepUp: { mfaAcrValues: ["urn:com:example:loa:3"] }',
      logLevel: 'silent',
      authzen: 'maxBatch: 20',
      extra: authzenExtra,
    }),
    'jwks.json': jwks(key),
    'policies/todos.yaml': TODO_POLICY,
    'policies/billing.yaml': BILLING_POLICY,
    'seed.yaml': SEED,
    ...files,
  });
  const keycard = new Keycard(loadSettings(workspace.path('keycard.yaml')), createLogger('silent'));
  const ports = await keycard.start();
  if (ports.authzen === undefined) throw new Error('the AuthZEN listener did not start');
  return {
    keycard,
    workspace,
    key,
    grpcPort: ports.grpc,
    authzenPort: ports.authzen,
    base: `http://127.0.0.1:${ports.authzen}`,
    token: (sub, claims = {}) => signToken(key, { sub, claims }),
    stop: async () => {
      await keycard.stop();
      workspace.remove();
    },
  };
}
