// The tuple text form: object_type:object_id#relation@subject.
import { describe, expect, it } from 'vitest';
import { formatTuple, parseObjectRef, parseSubjectRef, parseTuple, tupleProblem } from '../../src/state/tuple.js';

describe('parseTuple', () => {
  it.each([
    ['order:42#owner@user:alice', { object: 'order:42', relation: 'owner', subject: 'user:alice' }],
    ['doc:1#viewer@group:eng#member', { object: 'doc:1', relation: 'viewer', subject: 'group:eng#member' }],
    // Ids may hold ":" and "@": the first "#" ends the object, the first "@" after it the relation.
    ['doc:a@b#viewer@user:alice@example.com', { object: 'doc:a@b', relation: 'viewer', subject: 'user:alice@example.com' }],
    ['file:s3:bucket/key#reader@user:auth0|123', { object: 'file:s3:bucket/key', relation: 'reader', subject: 'user:auth0|123' }],
    ['my_type2:x#rel_1@group_3:y#member_2', { object: 'my_type2:x', relation: 'rel_1', subject: 'group_3:y#member_2' }],
  ])('parses %s', (text, tuple) => {
    expect(parseTuple(text)).toEqual({ ok: true, value: tuple });
    expect(formatTuple(tuple)).toBe(text);
  });

  it.each([
    ['', 'the tuple is empty'],
    ['   ', 'the tuple is empty'],
    ['order:42', '"order:42" has no "#RELATION@SUBJECT" part'],
    ['order:42#owner', '"order:42#owner" has no "@SUBJECT" after the relation'],
    ['order42#owner@user:alice', 'object "order42" is not TYPE:ID'],
    [':42#owner@user:alice', 'object ":42" has an empty type'],
    ['Order:42#owner@user:alice', 'object type "Order" must be lowercase letters, digits and "_", starting with a letter'],
    ['1order:42#owner@user:alice', 'object type "1order" must be lowercase letters, digits and "_", starting with a letter'],
    ['order:#owner@user:alice', 'object "order:" has an empty id'],
    ['order:4 2#owner@user:alice', 'object id "4 2" contains "#", whitespace or a control character'],
    ['order:4\u00012#owner@user:alice', 'object id "4\u00012" contains "#", whitespace or a control character'],
    [`order:${'x'.repeat(1025)}#owner@user:alice`, 'object id is longer than 1024 characters'],
    ['order:42#@user:alice', 'relation is empty'],
    ['order:42#Owner@user:alice', 'relation "Owner" must be lowercase letters, digits and "_", starting with a letter'],
    ['order:42#own-er@user:alice', 'relation "own-er" must be lowercase letters, digits and "_", starting with a letter'],
    ['order:42#owner@', '"order:42#owner@" has an empty subject'],
    ['order:42#owner@alice', 'subject "alice" is not TYPE:ID'],
    ['order:42#owner@User:alice', 'subject type "User" must be lowercase letters, digits and "_", starting with a letter'],
    ['order:42#owner@user:', 'subject "user:" has an empty id'],
    ['order:42#owner@user:al ice', 'subject id "al ice" contains "#", whitespace or a control character'],
    ['doc:1#viewer@group:eng#', 'subject relation is empty'],
    ['doc:1#viewer@group:eng#Member', 'subject relation "Member" must be lowercase letters, digits and "_", starting with a letter'],
    ['doc:1#viewer@group:eng#member#x', 'subject relation "member#x" must be lowercase letters, digits and "_", starting with a letter'],
  ])('rejects %j: %s', (text, problem) => {
    expect(parseTuple(text)).toEqual({ ok: false, problem });
  });
});

describe('object and subject references', () => {
  it('parses objects and usersets', () => {
    expect(parseObjectRef('order:42')).toEqual({ ok: true, value: { type: 'order', id: '42' } });
    expect(parseSubjectRef('user:alice')).toEqual({ ok: true, value: { type: 'user', id: 'alice' } });
    expect(parseSubjectRef('group:eng#member')).toEqual({ ok: true, value: { type: 'group', id: 'eng', relation: 'member' } });
  });

  it('rejects an object that carries a relation', () => {
    expect(parseObjectRef('order:42#owner')).toEqual({ ok: false, problem: 'object id "42#owner" contains "#", whitespace or a control character' });
  });

  it('checks structured tuples part by part', () => {
    expect(tupleProblem({ object: 'order:42', relation: 'owner', subject: 'user:alice' })).toBeUndefined();
    expect(tupleProblem({ object: 'order', relation: 'owner', subject: 'user:alice' })).toBe('object "order" is not TYPE:ID');
    expect(tupleProblem({ object: 'order:42', relation: 'own er', subject: 'user:alice' })).toBe(
      'relation "own er" must be lowercase letters, digits and "_", starting with a letter',
    );
    expect(tupleProblem({ object: 'order:42', relation: 'owner', subject: 'user' })).toBe('subject "user" is not TYPE:ID');
  });
});
