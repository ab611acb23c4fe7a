// The AuthZEN part's set-up: keycard with the Check scenario's policy plus an access policy for a
// todo service (abstract actions on typed resources: role, relation and attribute conditions, an
// explicit deny on an attribute), the subject directory and ownership tuples in the store, and
// the AuthZEN listener on, admitting one caller (svc-bench, a bearer JWT from the bench issuer).
// And the questions sent: one evaluation that is allowed, one that is denied (checked with a real
// client only), and a batch of 100 of which half are allowed.
import { writeFileSync } from 'node:fs';
import { signToken } from '../../test/helpers/keys.js';
import { AUDIENCE, ISSUER, policyYaml, roleBindingLines, SERVICE, settingsYaml, type Scenario } from './scenario.js';

export const TODO_SERVICE = 'todos';
export const CALLER = 'svc-bench';
/** An editor in department medicine, owner of the odd-numbered todos. */
export const OWNER = 'beth';
/** An editor in department school, owner of the even-numbered todos. */
export const OTHER_EDITOR = 'morty';
export const BATCH_SIZE = 100;
const POLICIES_DIR = 'policies-authzen';
/** Subjects in the directory besides the two editors (a directory of realistic size, not a two-entry map). */
const DIRECTORY_SIZE = 1000;

export function todoPolicyYaml(): string {
  const todo = (actions: string) => `match: { actions: [${actions}], resources: [todo] }`;
  return [
    `service: ${TODO_SERVICE}`,
    `hosts: [todos, todos.shop.svc.cluster.local]`,
    `authentication: { issuers: [bench-idp] }`,
    `authzen:`,
    `  callers: [{ subject: ${CALLER} }]`,
    `rules:`,
    `  - { id: archived-frozen, effect: deny, ${todo('can_update_todo, can_delete_todo')}, when: [{ attribute: { name: resource.properties.status, equals: archived } }] }`,
    `  - { id: read, effect: allow, ${todo('can_read_todos')}, when: [{ role: [viewer, editor, admin] }] }`,
    `  - { id: create, effect: allow, ${todo('can_create_todo')}, when: [{ role: [editor, admin] }] }`,
    // The question the load sends: a role, a relation tuple and a comparison of two attributes (one from the directory).
    `  - id: update-own`,
    `    effect: allow`,
    `    ${todo('can_update_todo')}`,
    `    when:`,
    `      - { role: editor }`,
    `      - { relation: "todo:{id}#owner" }`,
    `      - { attribute: { name: resource.properties.department, equals: { attribute: subject.properties.department } } }`,
    `  - { id: update-any, effect: allow, ${todo('can_update_todo')}, when: [{ role: admin }] }`,
    `  - { id: delete-any, effect: allow, ${todo('can_delete_todo')}, when: [{ role: admin }, { attribute: { name: subject.properties.department, equals: ops } }] }`,
    `  - { id: share-own, effect: allow, ${todo('can_share_todo')}, when: [{ role: [editor, admin] }, { relation: "todo:{id}#owner" }] }`,
    '',
  ].join('\n');
}

/** The Check scenario's role bindings, plus the todo service's editors, owners and directory. */
export function authzenSeedYaml(): string {
  const users = Array.from({ length: DIRECTORY_SIZE }, (_, i) => `user${i}`);
  return [
    'roleBindings:',
    ...roleBindingLines(),
    `  - { subject: ${OWNER}, roles: [editor], service: ${TODO_SERVICE} }`,
    `  - { subject: ${OTHER_EDITOR}, roles: [editor], service: ${TODO_SERVICE} }`,
    ...users.map((user, i) => `  - { subject: ${user}, roles: [${['viewer', 'editor', 'admin'][i % 3]}], service: ${TODO_SERVICE} }`),
    'tuples:',
    ...Array.from({ length: BATCH_SIZE }, (_, i) => `  - todo:${i + 1}#owner@user:${ownerOf(i + 1)}`),
    ...users.map((user, i) => `  - todo:${1000 + i}#owner@user:${user}`),
    'subjects:',
    `  - { id: ${OWNER}, properties: { email: beth@bench.example, name: Beth, department: medicine } }`,
    `  - { id: ${OTHER_EDITOR}, properties: { email: morty@bench.example, name: Morty, department: school } }`,
    ...users.map((user, i) => `  - { id: ${user}, properties: { email: ${user}@bench.example, department: dept${i % 20} } }`),
    '',
  ].join('\n');
}

/** The owner of todo `id`. */
export const ownerOf = (id: number) => (id % 2 === 1 ? OWNER : OTHER_EDITOR);

const todo = (id: number) => ({ type: 'todo', id: String(id), properties: { department: 'medicine', status: 'open', title: `todo ${id}` } });
const UPDATE = { name: 'can_update_todo' };

/** beth updates her todo 1: allowed by update-own. */
export const ALLOWED_QUESTION = { subject: { type: 'user', id: OWNER }, action: UPDATE, resource: todo(1), context: { time: '2026-11-23T10:00:00Z' } };
/** morty updates beth's todo 1: an editor, not the owner; denied (no rule matches). */
export const DENIED_QUESTION = { ...ALLOWED_QUESTION, subject: { type: 'user', id: OTHER_EDITOR } };
/** beth updates todos 1..100: the odd ones are hers (allowed), the even ones morty's (denied). */
export const BATCH_QUESTION = {
  subject: { type: 'user', id: OWNER },
  action: UPDATE,
  context: { time: '2026-11-23T10:00:00Z' },
  evaluations: Array.from({ length: BATCH_SIZE }, (_, i) => ({ resource: todo(i + 1) })),
};
/** The decision keycard gives batch item `index`. */
export const batchExpectation = (index: number) => ownerOf(index + 1) === OWNER;
export const BATCH_ALLOWED = BATCH_QUESTION.evaluations.filter((_, i) => batchExpectation(i)).length;

export interface AuthzenScenario {
  /** A bearer token for the caller. */
  readonly callerToken: string;
  /** The JSON bodies h2load POSTs. */
  readonly singleFile: string;
  readonly batchFile: string;
  readonly singleBytes: number;
  readonly batchBytes: number;
  /** The headers h2load sends with them. */
  readonly headers: readonly string[];
  /** Writes a keycard settings file for `storeSettings` (the `store:` block) and returns its path. */
  settingsFor(storeSettings: string, name: string): string;
  /** The `store:` block of the memory store, seeded with the AuthZEN seed. */
  readonly memoryStore: string;
  /** The `store:` block of a Redis store at `url`, seeded with the AuthZEN seed. */
  redisStore(url: string): string;
}

export async function createAuthzenScenario(scenario: Scenario): Promise<AuthzenScenario> {
  const { workspace } = scenario;
  const callerToken = await signToken(scenario.key, { iss: ISSUER, aud: AUDIENCE, sub: CALLER, expiresIn: 3600, claims: { jti: 'bench-caller-1' } });
  workspace.write(`${POLICIES_DIR}/${SERVICE}.yaml`, policyYaml());
  workspace.write(`${POLICIES_DIR}/${TODO_SERVICE}.yaml`, todoPolicyYaml());
  workspace.write('seed-authzen.yaml', authzenSeedYaml());
  const single = JSON.stringify(ALLOWED_QUESTION);
  const batch = JSON.stringify(BATCH_QUESTION);
  const singleFile = workspace.path('authzen-evaluation.json');
  const batchFile = workspace.path('authzen-evaluations.json');
  writeFileSync(singleFile, single);
  writeFileSync(batchFile, batch);
  return {
    callerToken,
    singleFile,
    batchFile,
    singleBytes: Buffer.byteLength(single),
    batchBytes: Buffer.byteLength(batch),
    headers: ['content-type: application/json', `authorization: Bearer ${callerToken}`],
    memoryStore: '{ type: memory, seedFile: seed-authzen.yaml }',
    redisStore: (url) => `{ type: redis, url: "${url}", seedFile: seed-authzen.yaml }`,
    settingsFor: (storeSettings, name) =>
      workspace.write(
        name,
        `${settingsYaml({ settings: storeSettings }, POLICIES_DIR)}relations:
  subjectType: user
  types:
    todo: { owner: [] }
authzen:
  listen: 127.0.0.1:0
  authentication: { credentials: [{ jwt: { issuers: [bench-idp] } }] }
`,
      ),
  };
}
