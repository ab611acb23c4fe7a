// The memory store's tuple operations (indexed by object and by subject) next to its role bindings.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { RelationTuple } from '../../src/state/store.js';
import { tuples as parseTuples } from '../helpers/relations.js';

const tuples = (...texts: string[]): RelationTuple[] => parseTuples(texts);

const SEEDED = tuples(
  'order:42#owner@user:alice',
  'order:42#viewer@group:eng#member',
  'order:42#viewer@user:bob',
  'order:43#owner@user:alice',
  'group:eng#member@user:bob',
);

describe('MemoryStore tuples', () => {
  it('answers the direct subjects of object#relation, objects and usersets alike', async () => {
    const store = new MemoryStore([], SEEDED);
    expect(await store.subjectsOf('order:42', 'owner')).toEqual(['user:alice']);
    expect(await store.subjectsOf('order:42', 'viewer')).toEqual(['group:eng#member', 'user:bob']);
    expect(await store.subjectsOf('order:42', 'shop')).toEqual([]);
    expect(await store.subjectsOf('order:99', 'owner')).toEqual([]);
  });

  it('adds a tuple once and removes it, live', async () => {
    const store = new MemoryStore();
    const [tuple] = tuples('doc:1#viewer@user:carol') as [RelationTuple];
    await store.addTuple(tuple);
    await store.addTuple({ ...tuple });
    expect(await store.subjectsOf('doc:1', 'viewer')).toEqual(['user:carol']);
    expect(await store.listTuples()).toEqual([tuple]);
    await store.removeTuple(tuple);
    expect(await store.subjectsOf('doc:1', 'viewer')).toEqual([]);
    expect(await store.listTuples()).toEqual([]);
    expect(await store.listTuples({ subject: 'user:carol' })).toEqual([]);
    // Removing what is not there is harmless.
    await store.removeTuple(tuple);
  });

  it('removes only the named tuple', async () => {
    const store = new MemoryStore([], SEEDED);
    await store.removeTuple({ object: 'order:42', relation: 'viewer', subject: 'user:bob' });
    expect(await store.subjectsOf('order:42', 'viewer')).toEqual(['group:eng#member']);
    expect(await store.listTuples({ subject: 'user:bob' })).toEqual(tuples('group:eng#member@user:bob'));
  });

  it('lists tuples by object, relation, subject or any combination', async () => {
    const store = new MemoryStore([], SEEDED);
    expect(await store.listTuples()).toHaveLength(5);
    expect(await store.listTuples({ object: 'order:42' })).toEqual(SEEDED.slice(0, 3));
    expect(await store.listTuples({ object: 'order:42', relation: 'viewer' })).toEqual(SEEDED.slice(1, 3));
    expect(await store.listTuples({ subject: 'user:alice' })).toEqual(tuples('order:42#owner@user:alice', 'order:43#owner@user:alice'));
    expect(await store.listTuples({ subject: 'user:alice', relation: 'owner', object: 'order:43' })).toEqual(tuples('order:43#owner@user:alice'));
    expect(await store.listTuples({ relation: 'member' })).toEqual(tuples('group:eng#member@user:bob'));
    expect(await store.listTuples({ subject: 'group:eng#member' })).toEqual(tuples('order:42#viewer@group:eng#member'));
    expect(await store.listTuples({ object: 'order:404' })).toEqual([]);
  });

  it('refuses a malformed tuple', async () => {
    const store = new MemoryStore();
    await expect(store.addTuple({ object: 'order42', relation: 'owner', subject: 'user:alice' })).rejects.toThrow(
      'invalid relation tuple: object "order42" is not TYPE:ID',
    );
    expect(() => new MemoryStore([], [{ object: 'order:1', relation: 'owner', subject: 'alice' }])).toThrow('subject "alice" is not TYPE:ID');
  });

  it('keeps role bindings apart from tuples', async () => {
    const store = new MemoryStore([{ subject: 'alice', role: 'customer' }], SEEDED);
    expect([...(await store.rolesFor('alice', 'orders'))]).toEqual(['customer']);
    expect(await store.subjectsOf('alice', 'customer')).toEqual([]);
  });
});
