// ReBAC through a real keycard process: a relation schema in the settings file, tuples in the
// seed, a `relation:` rule; allow and deny over gRPC, and the granting chain in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { waitForAuditLine } from '../helpers/audit.js';
import { responseHeader, serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { ORDER_RELATION_RULES, ORDER_RELATIONS_SETTINGS, ORDER_TUPLES } from '../helpers/relations.js';
import { settingsYaml } from '../helpers/workspace.js';

const SEED = `
roleBindings:
  - { subject: sam, roles: [support] }
tuples: ${JSON.stringify(ORDER_TUPLES)}
`;

const POLICY = `
service: orders
authentication: { issuers: [test-idp] }
${ORDER_RELATION_RULES}`;

let served: ServedKeycard;
/** Asked up front, so that every audit line is in the same flush. */
let answers: Record<'alice42' | 'olga43' | 'olga42' | 'sam43', CheckResponse__Output>;

beforeAll(async () => {
  served = await serveKeycard(settingsYaml(ORDER_RELATIONS_SETTINGS), { 'seed.yaml': SEED, 'policies/orders.yaml': POLICY });
  const [alice42, olga43, olga42, sam43] = await Promise.all([
    ask('/orders/42', 'alice'),
    ask('/orders/43', 'olga'),
    ask('/orders/42', 'olga'),
    ask('/orders/43', 'sam'),
  ]);
  answers = { alice42, olga43, olga42, sam43 };
});

afterAll(() => served?.close());

const ask = (path: string, subject: string) => served.ask({ service: 'orders', path }, subject);

function decisionId(response: CheckResponse__Output): string {
  const id = responseHeader(response, 'x-keycard-decision-id');
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
const auditLine = (id: string) => waitForAuditLine<AuditLine>(served.workspace.path('audit.log'), id, { timeoutMs: 5_000 });

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
