// `keycard tuples add | remove | list | check` against the memory store of an in-process keycard,
// validated against the relation schema of the settings file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StateCommandError } from '../../src/cli/state/context.js';
import { tupleCheckOutput, tuplesOutput } from '../../src/cli/state/render.js';
import { addTuple, checkTuple, listTuples, removeTuple } from '../../src/cli/state/tuples.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { tuples } from '../helpers/relations.js';
import { stateFixture, type StateFixture } from './state-fixture.js';

let fixture: StateFixture;
beforeAll(async () => {
  fixture = await stateFixture();
});
afterAll(() => fixture.close());
beforeEach(() => {
  fixture.audited.length = 0;
});

describe('keycard tuples add | remove', () => {
  it('adds a tuple that the next relation check grants with, and removes it again', async () => {
    const context = fixture.context();
    const token = await fixture.token('dave');
    const readOrder = () => fixture.decide('tracking', '/orders/77', token);
    expect((await readOrder()).reason).toBe('no_matching_rule');

    expect(await addTuple(context, 'order:77#owner@user:dave')).toMatchObject({
      action: 'tuples.add',
      changed: true,
      target: { object: 'order:77', relation: 'owner', subject: 'user:dave' },
      message: 'added order:77#owner@user:dave',
    });
    expect(await readOrder()).toMatchObject({ allowed: true, ruleId: 'read-own-order' });
    expect(await addTuple(context, 'order:77#owner@user:dave')).toMatchObject({ changed: false, message: 'order:77#owner@user:dave already exists' });

    expect(await removeTuple(context, 'order:77#owner@user:dave')).toMatchObject({ action: 'tuples.remove', changed: true, message: 'removed order:77#owner@user:dave' });
    expect((await readOrder()).reason).toBe('no_matching_rule');
    expect(await removeTuple(context, 'order:77#owner@user:dave')).toMatchObject({ changed: false, message: 'order:77#owner@user:dave does not exist: nothing to remove' });

    const target = { object: 'order:77', relation: 'owner', subject: 'user:dave' };
    expect(fixture.audited).toEqual([
      { actor: 'ops', action: 'tuples.add', target, store: 'memory' },
      { actor: 'ops', action: 'tuples.add', target, store: 'memory' },
      { actor: 'ops', action: 'tuples.remove', target, store: 'memory' },
      { actor: 'ops', action: 'tuples.remove', target, store: 'memory' },
    ]);
  });

  it('adds userset tuples: a group member reads the orders of the shop the group owns', async () => {
    const context = fixture.context();
    await addTuple(context, 'group:staff#member@user:nina');
    expect((await fixture.decide('tracking', '/orders/43', await fixture.token('nina'))).allowed).toBe(true);
    await removeTuple(context, 'group:staff#member@user:nina');
  });

  it.each([
    ['an unknown relation', 'order:42#ownr@user:bob', 'tuple order:42#ownr@user:bob: relation "order#ownr" is not declared in the relation schema; order has owner, shop, manager, viewer'],
    ['an unknown type', 'invoice:1#owner@user:bob', 'tuple invoice:1#owner@user:bob: relation "invoice#owner" is not declared in the relation schema; type "invoice" is not declared (declared: group, shop, order)'],
    ['an undeclared userset relation', 'shop:9#owner@group:staff#admin', 'tuple shop:9#owner@group:staff#admin: relation "group#admin" is not declared in the relation schema; group has member'],
    ['a subject type nothing can reach', 'order:42#owner@usr:bob', 'tuple order:42#owner@usr:bob: subject type "usr" is neither the callers\' type "user" nor a declared type (group, shop, order), so no check can reach it'],
    ['a malformed tuple', 'order42#owner@user:bob', 'tuple: object "order42" is not TYPE:ID (the form is TYPE:ID#RELATION@SUBJECT, e.g. order:42#owner@user:alice)'],
    ['a tuple without subject', 'order:42#owner', 'tuple: "order:42#owner" has no "@SUBJECT" after the relation (the form is TYPE:ID#RELATION@SUBJECT, e.g. order:42#owner@user:alice)'],
  ])('refuses %s without writing or auditing', async (_what, text, message) => {
    const context = fixture.context();
    const before = await listTuples(context);
    await expect(addTuple(context, text)).rejects.toThrow(new StateCommandError(message));
    await expect(checkTuple(context, text)).rejects.toThrow(new StateCommandError(message));
    expect(await listTuples(context)).toEqual(before);
    expect(fixture.audited).toEqual([]);
  });

  it('refuses every tuple when the settings have no relation schema', async () => {
    const context = fixture.context({ relationSchema: undefined });
    await expect(addTuple(context, 'order:42#owner@user:bob')).rejects.toThrow(
      'tuple order:42#owner@user:bob: the settings file has no "relations" section, so no relation is declared',
    );
  });

  it('removes a stored tuple the schema no longer declares; a missing undeclared one is an error', async () => {
    const store = new MemoryStore([], tuples(['order:1#legacy@user:x']));
    const context = fixture.context({ store });
    expect(await removeTuple(context, 'order:1#legacy@user:x')).toMatchObject({ changed: true, message: 'removed order:1#legacy@user:x' });
    expect(await store.listTuples()).toEqual([]);
    await expect(removeTuple(context, 'order:1#legacy@user:x')).rejects.toThrow('relation "order#legacy" is not declared in the relation schema');
    expect(fixture.audited.map((change) => change.action)).toEqual(['tuples.remove']);
  });
});

describe('keycard tuples list', () => {
  it('lists the tuples sorted, filtered by object, relation and subject', async () => {
    const context = fixture.context();
    expect(tuplesOutput(await listTuples(context)).text.split('\n')).toEqual([
      'group:staff#member@user:olga',
      'order:42#owner@user:alice',
      'order:43#shop@shop:9',
      'shop:9#owner@group:staff#member',
    ]);
    expect(tuplesOutput(await listTuples(context, { object: 'order:42' })).json).toEqual({ tuples: [{ object: 'order:42', relation: 'owner', subject: 'user:alice' }] });
    expect((await listTuples(context, { relation: 'owner' })).map((tuple) => tuple.object)).toEqual(['order:42', 'shop:9']);
    expect((await listTuples(context, { subject: 'group:staff#member' })).map((tuple) => tuple.object)).toEqual(['shop:9']);
    expect(await listTuples(context, { object: 'order:43', relation: 'owner' })).toEqual([]);
    expect(tuplesOutput([])).toEqual({ code: 0, text: 'no tuples', json: { tuples: [] } });
  });

  it('refuses filters that could only ever match nothing by mistake', async () => {
    const context = fixture.context();
    await expect(listTuples(context, { relation: 'ownr' })).rejects.toThrow('--relation "ownr" is not declared in the relation schema; no type declares it');
    await expect(listTuples(context, { object: 'group:staff', relation: 'owner' })).rejects.toThrow('--relation "owner" is not declared in the relation schema; group has member');
    await expect(listTuples(context, { object: 'order42' })).rejects.toThrow('--object: object "order42" is not TYPE:ID');
    await expect(listTuples(context, { subject: 'alice' })).rejects.toThrow('--subject: subject "alice" is not TYPE:ID');
  });
});

describe('keycard tuples check', () => {
  it('answers yes with the chain from the subject to the relation (exit 0)', async () => {
    const check = await checkTuple(fixture.context(), 'order:43#viewer@user:olga');
    expect(check).toMatchObject({ has: true, chain: ['user:olga', 'group:staff#member', 'shop:9#owner', 'order:43#manager', 'order:43#viewer'] });
    expect(tupleCheckOutput(check)).toEqual({
      code: 0,
      text: 'yes: user:olga is viewer of order:43\nchain: user:olga → group:staff#member → shop:9#owner → order:43#manager → order:43#viewer',
      json: { tuple: 'order:43#viewer@user:olga', has: true, chain: ['user:olga', 'group:staff#member', 'shop:9#owner', 'order:43#manager', 'order:43#viewer'] },
    });
  });

  it('answers no (exit 1) when the subject lacks the relation', async () => {
    const output = tupleCheckOutput(await checkTuple(fixture.context(), 'order:42#viewer@user:olga'));
    expect(output).toEqual({ code: 1, text: 'no: user:olga is not viewer of order:42', json: { tuple: 'order:42#viewer@user:olga', has: false } });
  });

  it('reports a check that runs out of budget as undecided, not as no', async () => {
    const store = new MemoryStore([], tuples(['order:5#owner@group:a#member', 'group:a#member@group:b#member', 'group:b#member@group:c#member', 'group:c#member@user:zed']));
    const relationSchema = new RelationSchema({ subjectType: 'user', maxDepth: 2, maxReads: 256, types: { group: { member: [] }, order: { owner: [] } } });
    await expect(checkTuple(fixture.context({ store, relationSchema }), 'order:5#owner@user:zed')).rejects.toThrow(
      /^cannot decide order:5#owner@user:zed: relation_limit_reached: user:zed on order:5#owner: depth limit 2 reached$/,
    );
  });
});
