// Access decisions (AuthZEN evaluations to a real in-process keycard) in the explorer's HTTP API:
// recorded beside Check decisions as kind `access` with the subject's type and id, the action and
// the resource's type and id; filtered like the others (the path filter matches `type:id`);
// explained as `keycard check` explains an access question, naming the failing condition; never a
// property or context value, nor the caller's token; subjects masked when the settings ask.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hideAttributeValues, HIDDEN_VALUE } from '../../src/access/hide-values.js';
import { SAM_EMAIL, serveExplorer, tokenParts, type ServedExplorer } from './served.js';

interface Listed {
  masked: boolean;
  decisions: { seq: number; id: string; kind?: string; decision: string; reason: string; subject?: string; subjectType?: string; action?: string; resourceType?: string; resourceId?: string; service?: string; rule?: string }[];
}

const OWNER = 'owner-secret-mail@example.com';
const CONTEXT_VALUE = 'context-secret-value-83';
const SENT_PROPERTY = 'sent-property-secret-19';

const editByNotOwner = {
  subject: { type: 'user', id: 'sam', properties: { nickname: SENT_PROPERTY } },
  action: { name: 'can_edit' },
  resource: { type: 'document', id: 'd-7', properties: { owner: OWNER } },
  context: { reason: CONTEXT_VALUE },
};
const editByOwner = { ...editByNotOwner, resource: { type: 'document', id: 'd-8', properties: { owner: SAM_EMAIL } } };
const readByCustomer = { subject: { type: 'user', id: 'alice' }, action: { name: 'can_read' }, resource: { type: 'document', id: 'd-1' } };

async function listed(served: ServedExplorer, query = ''): Promise<Listed> {
  return (await (await fetch(`${served.adminUrl}/explorer/api/decisions?${query}`)).json()) as Listed;
}

function expectNothingSecret(text: string, served: ServedExplorer): void {
  for (const secret of [OWNER, CONTEXT_VALUE, SENT_PROPERTY, SAM_EMAIL]) expect(text).not.toContain(secret);
  for (const part of tokenParts(served.tokens)) expect(text).not.toContain(part);
}

describe('access decisions in the explorer', () => {
  let served: ServedExplorer;
  beforeAll(async () => {
    served = await serveExplorer({ authzen: true });
    await served.ask({ path: '/orders/1' }, 'alice');
    expect((await served.evaluate(editByNotOwner)).body.decision).toBe(false);
    expect((await served.evaluate(editByOwner)).body.decision).toBe(true);
    expect((await served.evaluate(readByCustomer)).body.decision).toBe(true);
  });
  afterAll(() => served?.close());

  it('are listed beside Check decisions, newest first, with subject, action and resource', async () => {
    const response = await fetch(`${served.adminUrl}/explorer/api/decisions`);
    const text = await response.clone().text();
    const body = (await response.json()) as Listed;
    expect(body.decisions.map((record) => [record.kind, record.decision, record.subject])).toEqual([
      ['access', 'allow', 'alice'],
      ['access', 'allow', 'sam'],
      ['access', 'deny', 'sam'],
      ['check', 'allow', 'alice'],
    ]);
    expect(body.decisions[2]).toMatchObject({ service: 'docs', subjectType: 'user', action: 'can_edit', resourceType: 'document', resourceId: 'd-7', reason: 'no_matching_rule' });
    expect(body.decisions[1]).toMatchObject({ rule: 'edit-own', resourceId: 'd-8' });
    expectNothingSecret(text, served);
  });

  it('filter by service, decision, reason, subject, and by resource type:id as the path', async () => {
    const seqs = async (query: string) => (await listed(served, query)).decisions.map((record) => record.resourceId ?? 'check');
    expect(await seqs('service=docs')).toEqual(['d-1', 'd-8', 'd-7']);
    expect(await seqs('decision=deny')).toEqual(['d-7']);
    expect(await seqs('reason=no_matching')).toEqual(['d-7']);
    expect(await seqs('subject=sam')).toEqual(['d-8', 'd-7']);
    expect(await seqs('path=document:d-7')).toEqual(['d-7']);
    expect(await seqs('path=DOCUMENT:')).toEqual(['d-1', 'd-8', 'd-7']);
    expect(await seqs('path=/orders')).toEqual(['check']);
  });

  it('explain themselves as keycard check explains an access question, naming the failing condition without its values', async () => {
    const { decisions } = await listed(served, 'decision=deny&service=docs');
    const response = await fetch(`${served.adminUrl}/explorer/api/decisions/${decisions[0]!.id}`);
    const text = await response.clone().text();
    const { explanation } = (await response.json()) as { explanation: string[] };
    expect(explanation).toEqual([
      'question  can_edit on document "d-7" (access question)',
      'service   docs',
      'caller    sam (issuer authzen)',
      'roles     support (from the store)',
      'rules     evaluated for this request, in policy order:',
      `  edit-own  allow  not applied: attribute resource.properties.owner (${HIDDEN_VALUE}) does not satisfy equals subject.properties.email (${HIDDEN_VALUE})`,
      'decision  deny 403 no_matching_rule (no policy rule allows this request)',
    ]);
    expectNothingSecret(text, served);
  });
});

describe('access decisions with masked subjects', () => {
  it('show the mask, and are found by the subject typed in the filter', async () => {
    const served = await serveExplorer({ authzen: true, explorer: 'enabled: true, maskSubjects: true' });
    try {
      await served.evaluate(editByNotOwner);
      const body = await listed(served);
      expect(body.masked).toBe(true);
      expect(body.decisions[0]!.subject).toMatch(/^masked:[0-9a-f]{12}$/);
      expect(body.decisions[0]!.subjectType).toBe('user');
      expect((await listed(served, 'subject=sam')).decisions).toHaveLength(1);
      const explained = await (await fetch(`${served.adminUrl}/explorer/api/decisions/${body.decisions[0]!.id}`)).text();
      expect(explained).toContain(`caller    ${body.decisions[0]!.subject} (issuer authzen)`);
      expect(explained).not.toMatch(/\bsam\b/);
    } finally {
      await served.close();
    }
  });
});

describe('hiding attribute values in messages', () => {
  it('hides what follows properties and context attributes, whatever the value holds, and keeps the rest', () => {
    expect(hideAttributeValues('attribute resource.properties.owner ("a) does not satisfy (b") does not satisfy equals subject.properties.email ("x@y")')).toBe(
      `attribute resource.properties.owner (${HIDDEN_VALUE}) does not satisfy equals subject.properties.email (${HIDDEN_VALUE})`,
    );
    expect(hideAttributeValues('attribute context.ip ({"nested":[1,")"]}) does not satisfy in ["10.0.0.1"]')).toBe(`attribute context.ip (${HIDDEN_VALUE}) does not satisfy in ["10.0.0.1"]`);
    // A value cut at 80 characters ends with "..." and no closing quote.
    const cut = `${JSON.stringify('z'.repeat(200)).slice(0, 77)}...`;
    expect(hideAttributeValues(`attribute action.properties.note (${cut}) cannot be compared: not a number`)).toBe(`attribute action.properties.note (${HIDDEN_VALUE}) cannot be compared: not a number`);
    // Names and constants from the policy stay; so does a missing attribute's reason.
    expect(hideAttributeValues('attribute subject.id ("sam") does not satisfy equals "bob"')).toBe('attribute subject.id ("sam") does not satisfy equals "bob"');
    expect(hideAttributeValues('attribute context.ip is missing (no "ip")')).toBe('attribute context.ip is missing (no "ip")');
  });
});

describe('searches in the explorer', () => {
  let served: ServedExplorer;
  beforeAll(async () => {
    served = await serveExplorer({ authzen: true });
  });
  afterAll(() => served?.close());

  it('leave out the candidates a search tried (they would push Check decisions out of the ring), and keep evaluations', async () => {
    const search = await served.authzen('/access/v1/search/action', { subject: { type: 'user', id: 'alice' }, resource: { type: 'document', id: 'd-1' } });
    expect(search.status).toBe(200);
    expect(search.body.results).toEqual([{ name: 'can_read' }]);
    expect((await listed(served)).decisions).toEqual([]);
    expect((await served.evaluate(readByCustomer)).body.decision).toBe(true);
    expect((await listed(served)).decisions.map((record) => [record.kind, record.action])).toEqual([['access', 'can_read']]);
  });
});
