// ReBAC through a real keycard process: a relation schema in the settings file, tuples in the
// seed, a `relation:` rule; allow and deny over gRPC, and the granting chain in the audit log.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { settingsYaml, Workspace } from '../helpers/workspace.js';

const RELATIONS = `
relations:
  types:
    group: { member: [] }
    shop: { owner: [] }
    order:
      owner: []
      shop: []
      manager: ["shop->owner"]
      viewer: [owner, manager]
`;

const SEED = `
roleBindings:
  - { subject: sam, roles: [support] }
tuples:
  - order:42#owner@user:alice
  - order:43#shop@shop:9
  - shop:9#owner@group:staff#member
  - group:staff#member@user:olga
`;

const POLICY = `
service: orders
authentication: { issuers: [test-idp] }
rules:
  - id: support-read
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ role: support }]
  - id: read-own-order
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ relation: "order:{id}#viewer" }]
`;

let workspace: Workspace;
let keycard: KeycardProcess;
let client: AuthorizationClient;
let key: TestKey;
/** Asked up front, so that every audit line is in the same flush. */
let answers: Record<'alice42' | 'olga43' | 'olga42' | 'sam43', CheckResponse__Output>;

beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace();
  workspace.write('keycard.yaml', settingsYaml(RELATIONS));
  workspace.write('jwks.json', jwks(key));
  workspace.write('seed.yaml', SEED);
  workspace.write('policies/orders.yaml', POLICY);
  keycard = await startKeycard(workspace.path('keycard.yaml'));
  client = createCheckClient(keycard.grpcAddress);
  const [alice42, olga43, olga42, sam43] = await Promise.all([
    ask('/orders/42', 'alice'),
    ask('/orders/43', 'olga'),
    ask('/orders/42', 'olga'),
    ask('/orders/43', 'sam'),
  ]);
  answers = { alice42, olga43, olga42, sam43 };
});

afterAll(async () => {
  client?.close();
  await keycard?.stop();
  workspace?.remove();
});

async function ask(path: string, subject: string): Promise<CheckResponse__Output> {
  const headers = { authorization: `Bearer ${await signToken(key, { sub: subject })}` };
  return check(client, buildCheckRequest({ service: 'orders', path, headers }));
}

function decisionId(response: CheckResponse__Output): string {
  const options = response.ok_response?.headers ?? response.denied_response?.headers ?? [];
  const id = options.find((option) => option.header?.key === 'x-keycard-decision-id')?.header?.value;
  if (!id) throw new Error('no decision id');
  return id;
}

interface AuditLine {
  decision_id: string;
  decision: string;
  reason: string;
  rule?: string;
  explanation: { id: string; outcome: string; chain?: string[]; failed?: string }[];
}

/** The audit line of a decision; the audit log is written in batches, at least once a second. */
async function auditLine(id: string): Promise<AuditLine> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(workspace.path('audit.log'), 'utf8');
    } catch {
      // Not created yet.
    }
    const line = text.split('\n').find((candidate) => candidate.includes(`"decision_id":"${id}"`));
    if (line) return JSON.parse(line) as AuditLine;
    if (Date.now() > deadline) throw new Error(`no audit line for ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('relation-based authorization over gRPC', () => {
  it('allows the owner of an order and records the chain in the audit log', async () => {
    const response = answers.alice42;
    expect(response.status?.code).toBe(0);
    const line = await auditLine(decisionId(response));
    expect(line).toMatchObject({ decision: 'allow', reason: 'allowed', rule: 'read-own-order' });
    expect(line.explanation).toContainEqual({
      id: 'read-own-order',
      effect: 'allow',
      outcome: 'applied',
      chain: ['user:alice', 'order:42#owner', 'order:42#viewer'],
    });
  });

  it('allows a manager through the order\'s shop, with the whole chain', async () => {
    const response = answers.olga43;
    expect(response.status?.code).toBe(0);
    const line = await auditLine(decisionId(response));
    expect(line.explanation.find((rule) => rule.id === 'read-own-order')?.chain).toEqual([
      'user:olga',
      'group:staff#member',
      'shop:9#owner',
      'order:43#manager',
      'order:43#viewer',
    ]);
  });

  it('denies another customer\'s order with 403, explaining the missing relation', async () => {
    const response = answers.olga42;
    expect(response.status?.code).toBe(7);
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'no_matching_rule' });
    const line = await auditLine(decisionId(response));
    expect(line).toMatchObject({ decision: 'deny', reason: 'no_matching_rule' });
    expect(line.explanation).toContainEqual({ id: 'read-own-order', effect: 'allow', outcome: 'condition_failed', failed: 'user:olga is not viewer of order:42' });
  });

  it('keeps role rules working beside relation rules', async () => {
    const response = answers.sam43;
    expect(response.status?.code).toBe(0);
    expect((await auditLine(decisionId(response))).rule).toBe('support-read');
  });
});
