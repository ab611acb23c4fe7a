// The request readers against the spec's example bodies (AuthZEN Authorization API 1.0, openid/authzen
// api/authorization-api-1_0.md: draft 04 + the later editor's copy; paging from draft 05's schemas),
// and every 400 with the field it names.
import { describe, expect, it } from 'vitest';
import { BadRequest, parseJsonBody, readActionSearch, readEvaluation, readEvaluations, readResourceSearch, readSubjectSearch } from '../../src/authzen/request-shapes.js';

const SPEC_EVALUATION = {
  subject: { type: 'user', id: 'alice@example.com' },
  resource: { type: 'account', id: '123' },
  action: { name: 'can_read', properties: { method: 'GET' } },
  context: { time: '1985-10-26T01:22-07:00' },
};

const bad = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequest);
    return (error as Error).message;
  }
  throw new Error('expected a BadRequest');
};

describe('access evaluation request', () => {
  it('reads the spec example request', () => {
    expect(readEvaluation(SPEC_EVALUATION)).toEqual(SPEC_EVALUATION);
  });

  it.each([
    [{ ...SPEC_EVALUATION, subject: undefined }, 'subject is required'],
    [{ ...SPEC_EVALUATION, action: undefined }, 'action is required'],
    [{ ...SPEC_EVALUATION, resource: undefined }, 'resource is required'],
    [{ ...SPEC_EVALUATION, subject: { type: 'user' } }, 'subject.id is required'],
    [{ ...SPEC_EVALUATION, subject: { id: 'alice' } }, 'subject.type is required'],
    [{ ...SPEC_EVALUATION, subject: { type: 'user', id: 7 } }, 'subject.id must be a string, not number 7'],
    [{ ...SPEC_EVALUATION, subject: { type: 'user', id: '' } }, 'subject.id must not be empty'],
    [{ ...SPEC_EVALUATION, subject: 'alice' }, 'subject must be an object, not the string "alice"'],
    [{ ...SPEC_EVALUATION, resource: { type: 'account' } }, 'resource.id is required'],
    [{ ...SPEC_EVALUATION, action: {} }, 'action.name is required'],
    [{ ...SPEC_EVALUATION, action: { name: ['read'] } }, 'action.name must be a string, not an array'],
    [{ ...SPEC_EVALUATION, context: [] }, 'context must be an object, not an array'],
    [{ ...SPEC_EVALUATION, subject: { type: 'user', id: 'a', properties: null } }, 'subject.properties must be an object, not null'],
    [{ ...SPEC_EVALUATION, subject: { type: 'user', id: 'x'.repeat(1025) } }, 'subject.id is longer than 1024 characters'],
  ])('%j → 400 "%s"', (body, message) => {
    expect(bad(() => readEvaluation(body as Record<string, unknown>))).toBe(message);
  });

  it('refuses nesting past the depth limit', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = { deeper: deep };
    expect(bad(() => readEvaluation({ ...SPEC_EVALUATION, context: deep as Record<string, unknown> }))).toBe('context is nested deeper than 32 levels');
  });

  it.each([
    ['{', /^the body is not valid JSON: /],
    ['[1,2]', /^the body must be a JSON object, not an array$/],
    ['"text"', /^the body must be a JSON object, not the string "text"$/],
    ['null', /^the body must be a JSON object, not null$/],
  ])('body %s → 400', (text, message) => {
    expect(bad(() => parseJsonBody(text))).toMatch(message);
  });
});

describe('access evaluations request', () => {
  it('fills top-level defaults into each item; an item value replaces the default whole (spec example)', () => {
    const request = readEvaluations(
      {
        subject: { type: 'user', id: 'alice@example.com' },
        context: { time: '2024-05-31T15:22-07:00' },
        action: { name: 'can_read' },
        evaluations: [
          { resource: { type: 'document', id: 'boxcarring.md' } },
          { resource: { type: 'document', id: 'subject-search.md' } },
          { action: { name: 'can_edit' }, resource: { type: 'document', id: 'resource-search.md' } },
        ],
      },
      100,
    );
    expect(request.semantic).toBe('execute_all');
    expect(request.items).toEqual([
      { subject: { type: 'user', id: 'alice@example.com' }, action: { name: 'can_read' }, resource: { type: 'document', id: 'boxcarring.md' }, context: { time: '2024-05-31T15:22-07:00' } },
      { subject: { type: 'user', id: 'alice@example.com' }, action: { name: 'can_read' }, resource: { type: 'document', id: 'subject-search.md' }, context: { time: '2024-05-31T15:22-07:00' } },
      { subject: { type: 'user', id: 'alice@example.com' }, action: { name: 'can_edit' }, resource: { type: 'document', id: 'resource-search.md' }, context: { time: '2024-05-31T15:22-07:00' } },
    ]);
  });

  it('treats a request without evaluations (or an empty array) as a single evaluation', () => {
    expect(readEvaluations(SPEC_EVALUATION, 100)).toEqual({ items: undefined, single: SPEC_EVALUATION, semantic: 'execute_all' });
    expect(readEvaluations({ ...SPEC_EVALUATION, evaluations: [] }, 100).single).toEqual(SPEC_EVALUATION);
  });

  it.each(['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'])('reads options.evaluations_semantic %s', (semantic) => {
    expect(readEvaluations({ ...SPEC_EVALUATION, evaluations: [{}], options: { evaluations_semantic: semantic, another_option: 'value' } }, 100).semantic).toBe(semantic);
  });

  it.each([
    [{ evaluations: [{ action: { name: 'r' }, resource: { type: 'd', id: '1' } }] }, 'evaluations[0].subject is required (neither in the item nor as a top-level default)'],
    [{ subject: { type: 'user' }, evaluations: [{ action: { name: 'r' }, resource: { type: 'd', id: '1' } }] }, 'subject.id is required'],
    // A default only the second item takes is named as the default, when that item takes it.
    [{ subject: { type: 'user' }, action: { name: 'r' }, evaluations: [{ subject: { type: 'user', id: 'a' }, resource: { type: 'd', id: '1' } }, { resource: { type: 'd', id: '2' } }] }, 'subject.id is required'],
    [{ ...SPEC_EVALUATION, context: [], evaluations: [{ context: {} }, {}] }, 'context must be an object, not an array'],
    [{ ...SPEC_EVALUATION, evaluations: [{ resource: { type: 'd', id: 3 } }] }, 'evaluations[0].resource.id must be a string, not number 3'],
    [{ ...SPEC_EVALUATION, evaluations: [{}, 'x'] }, 'evaluations[1] must be an object, not the string "x"'],
    [{ ...SPEC_EVALUATION, evaluations: {} }, 'evaluations must be an array, not an object'],
    [{ ...SPEC_EVALUATION, evaluations: [{}], options: { evaluations_semantic: 'first' } }, 'options.evaluations_semantic must be one of execute_all, deny_on_first_deny, permit_on_first_permit, not the string "first"'],
    [{ ...SPEC_EVALUATION, evaluations: [{}], options: 'fast' }, 'options must be an object, not the string "fast"'],
    [{ ...SPEC_EVALUATION, evaluations: [{}, {}, {}] }, 'evaluations has 3 items; at most 2 are accepted per request'],
  ])('%j → 400 "%s"', (body, message) => {
    expect(bad(() => readEvaluations(body as Record<string, unknown>, 2))).toBe(message);
  });
});

describe('search requests', () => {
  it('reads the spec subject search example; a subject id, if sent, is ignored', () => {
    const body = { subject: { type: 'user' }, action: { name: 'can_read' }, resource: { type: 'account', id: '123' }, context: { time: '2024-10-26T01:22-07:00' } };
    expect(readSubjectSearch(body)).toEqual({ subjectType: 'user', action: { name: 'can_read' }, resource: { type: 'account', id: '123' }, context: body.context, page: {} });
    expect(readSubjectSearch({ ...body, subject: { type: 'user', id: 'ignored' } }).subjectType).toBe('user');
  });

  it('reads the spec resource search example; a resource id, if sent, is ignored', () => {
    expect(readResourceSearch({ subject: { type: 'user', id: 'alice@example.com' }, action: { name: 'can_read' }, resource: { type: 'account' } })).toEqual({
      subject: { type: 'user', id: 'alice@example.com' },
      action: { name: 'can_read' },
      resourceType: 'account',
      page: {},
    });
  });

  it('reads the spec action search example (no action)', () => {
    expect(readActionSearch({ subject: { type: 'user', id: '123' }, resource: { type: 'account', id: '123' }, context: { time: '2024-10-26T01:22-07:00' } })).toEqual({
      subject: { type: 'user', id: '123' },
      resource: { type: 'account', id: '123' },
      context: { time: '2024-10-26T01:22-07:00' },
      page: {},
    });
  });

  it('reads page.token and limit (1.0), and draft 04 page.next_token', () => {
    const base = { subject: { type: 'user', id: 'a' }, resource: { type: 'account', id: '1' } };
    expect(readActionSearch({ ...base, page: { token: 'abc', limit: 5 } }).page).toEqual({ token: 'abc', limit: 5 });
    expect(readActionSearch({ ...base, page: { next_token: 'alsehrq3495u8' } }).page).toEqual({ token: 'alsehrq3495u8' });
    expect(readActionSearch({ ...base, page: { token: '' } }).page).toEqual({});
  });

  it.each([
    [{ subject: {}, action: { name: 'r' }, resource: { type: 'a', id: '1' } }, 'subject.type is required'],
    [{ subject: { type: 'user' }, resource: { type: 'a', id: '1' } }, 'action is required'],
    [{ subject: { type: 'user' }, action: { name: 'r' }, resource: { type: 'a', id: '1' }, page: { limit: -1 } }, 'page.limit must be a non-negative integer, not number -1'],
    [{ subject: { type: 'user' }, action: { name: 'r' }, resource: { type: 'a', id: '1' }, page: { limit: 1.5 } }, 'page.limit must be a non-negative integer, not number 1.5'],
    [{ subject: { type: 'user' }, action: { name: 'r' }, resource: { type: 'a', id: '1' }, page: { token: 5 } }, 'page.token must be a string, not number 5'],
    [{ subject: { type: 'user' }, action: { name: 'r' }, resource: { type: 'a', id: '1' }, page: [] }, 'page must be an object, not an array'],
  ])('%j → 400 "%s"', (body, message) => {
    expect(bad(() => readSubjectSearch(body as Record<string, unknown>))).toBe(message);
  });
});
