// The relation resolver: direct tuples, usersets, computed usersets and tuple-to-userset, with
// the chain that granted, and its bounds (cycles, depth, reads, steps) and store failures.
import { describe, expect, it } from 'vitest';
import { DenyError } from '../../../src/errors.js';
import { RelationResolver } from '../../../src/policy/relations/resolver.js';
import { RelationSchema, type RelationSettings } from '../../../src/policy/relations/schema.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import type { StateStore } from '../../../src/state/store.js';
import { tuples as parseTuples } from '../../helpers/relations.js';

const TYPES: RelationSettings['types'] = {
  group: { member: [] },
  shop: { owner: [] },
  doc: { owner: [], editor: [], viewer: ['owner', 'editor'] },
  order: { owner: [], shop: [], manager: ['shop->owner'], viewer: ['owner', 'manager'] },
};

function schema(limits: Partial<RelationSettings> = {}): RelationSchema {
  return new RelationSchema({ subjectType: 'user', maxDepth: 8, maxReads: 256, types: TYPES, ...limits });
}

/** The memory store, counting reads (so bounds can be seen) and able to fail. */
class CountingStore {
  readonly kind = 'counting';
  readonly reads: string[] = [];
  failWith: Error | undefined;
  private readonly store: MemoryStore;

  constructor(tuples: readonly string[]) {
    this.store = new MemoryStore([], parseTuples(tuples));
  }

  subjectsOf(object: string, relation: string): Promise<readonly string[]> {
    this.reads.push(`${object}#${relation}`);
    if (this.failWith) return Promise.reject(this.failWith);
    return this.store.subjectsOf(object, relation);
  }
}

function resolver(tuples: readonly string[], limits: Partial<RelationSettings> = {}): { store: CountingStore; relations: RelationResolver } {
  const store = new CountingStore(tuples);
  const checked: Pick<StateStore, 'kind' | 'subjectsOf'> = store;
  return { store, relations: new RelationResolver(checked, schema(limits)) };
}

describe('RelationResolver grants', () => {
  it('by a direct tuple', async () => {
    const { relations } = resolver(['order:42#owner@user:alice']);
    expect(await relations.check('order:42', 'owner', 'user:alice')).toEqual({ ok: true, chain: ['user:alice', 'order:42#owner'] });
    expect(await relations.check('order:42', 'owner', 'user:bob')).toEqual({ ok: false });
    expect(await relations.check('order:43', 'owner', 'user:alice')).toEqual({ ok: false });
  });

  it('through a userset subject, recursively', async () => {
    const { relations } = resolver([
      'doc:1#editor@group:eng#member',
      'group:eng#member@group:backend#member',
      'group:backend#member@user:bob',
      'group:eng#member@user:erin',
    ]);
    expect(await relations.check('doc:1', 'editor', 'user:erin')).toEqual({ ok: true, chain: ['user:erin', 'group:eng#member', 'doc:1#editor'] });
    expect(await relations.check('doc:1', 'editor', 'user:bob')).toEqual({
      ok: true,
      chain: ['user:bob', 'group:backend#member', 'group:eng#member', 'doc:1#editor'],
    });
    // A userset can itself be asked about.
    expect(await relations.check('doc:1', 'editor', 'group:eng#member')).toEqual({ ok: true, chain: ['group:eng#member', 'doc:1#editor'] });
    expect(await relations.check('doc:1', 'owner', 'user:bob')).toEqual({ ok: false });
  });

  it('through computed usersets: viewer includes owner and editor', async () => {
    const { relations } = resolver(['doc:1#owner@user:alice', 'doc:1#editor@group:eng#member', 'group:eng#member@user:bob']);
    expect(await relations.check('doc:1', 'viewer', 'user:alice')).toEqual({ ok: true, chain: ['user:alice', 'doc:1#owner', 'doc:1#viewer'] });
    expect(await relations.check('doc:1', 'viewer', 'user:bob')).toEqual({
      ok: true,
      chain: ['user:bob', 'group:eng#member', 'doc:1#editor', 'doc:1#viewer'],
    });
    // Rewrites only widen the relation they belong to: an owner is not thereby an editor.
    expect(await relations.check('doc:1', 'editor', 'user:alice')).toEqual({ ok: false });
  });

  it('through tuple-to-userset: the owners of the order\'s shop manage it', async () => {
    const { relations } = resolver([
      'order:1#shop@shop:9',
      'order:2#shop@shop:8',
      'shop:9#owner@group:staff9#member',
      'group:staff9#member@user:olga',
      'shop:8#owner@user:otto',
    ]);
    expect(await relations.check('order:1', 'viewer', 'user:olga')).toEqual({
      ok: true,
      chain: ['user:olga', 'group:staff9#member', 'shop:9#owner', 'order:1#manager', 'order:1#viewer'],
    });
    expect(await relations.check('order:2', 'manager', 'user:otto')).toEqual({ ok: true, chain: ['user:otto', 'shop:8#owner', 'order:2#manager'] });
    expect(await relations.check('order:2', 'viewer', 'user:olga')).toEqual({ ok: false });
    // Direct tuples of the tupleset relation do not make the shop itself a manager.
    expect(await relations.check('order:1', 'manager', 'shop:9')).toEqual({ ok: false });
  });

  it('follows a tupleset only to objects whose type has the relation, and never to usersets', async () => {
    const { relations, store } = resolver(['order:1#shop@group:5', 'order:1#shop@shop:9#owner', 'group:5#member@user:alice', 'shop:9#owner@user:alice']);
    expect(await relations.check('order:1', 'manager', 'user:alice')).toEqual({ ok: false });
    expect(store.reads).toEqual(['order:1#manager', 'order:1#shop']);
    // Any type that declares the relation will do.
    const other = resolver(['order:1#shop@doc:5', 'doc:5#owner@user:alice']);
    expect(await other.relations.check('order:1', 'manager', 'user:alice')).toEqual({ ok: true, chain: ['user:alice', 'doc:5#owner', 'order:1#manager'] });
  });
});

describe('RelationResolver bounds', () => {
  it('ends on cycles of usersets, and still finds a grant inside one', async () => {
    const { relations } = resolver(['group:a#member@group:b#member', 'group:b#member@group:a#member', 'group:b#member@user:zed']);
    expect(await relations.check('group:a', 'member', 'user:nobody')).toEqual({ ok: false });
    expect(await relations.check('group:a', 'member', 'user:zed')).toEqual({ ok: true, chain: ['user:zed', 'group:b#member', 'group:a#member'] });
  });

  it('stops at maxDepth usersets and fails closed: an unknown answer is never "no"', async () => {
    // group:g0 ← g1 ← … ← g9 ← user:deep: a chain of 10 usersets.
    const nested = Array.from({ length: 9 }, (_, i) => `group:g${i}#member@group:g${i + 1}#member`);
    const tuples = [...nested, 'group:g9#member@user:deep'];
    await expectUndecided(resolver(tuples, { maxDepth: 8 }).relations.check('group:g0', 'member', 'user:deep'), 'user:deep on group:g0#member: depth limit 8 reached');
    const deep = await resolver(tuples, { maxDepth: 10 }).relations.check('group:g0', 'member', 'user:deep');
    expect(deep.ok).toBe(true);
    expect(deep.chain).toHaveLength(11);
    expect(deep.chain?.slice(0, 2)).toEqual(['user:deep', 'group:g9#member']);
    // A grant within the depth wins even when another branch is too deep.
    const both = resolver([...tuples, 'group:g0#member@user:deep'], { maxDepth: 2 });
    expect(await both.relations.check('group:g0', 'member', 'user:deep')).toEqual({ ok: true, chain: ['user:deep', 'group:g0#member'] });
  });

  it('counts computed usersets and tuple-to-userset as steps of the depth', async () => {
    const { relations } = resolver(['order:1#shop@shop:9', 'shop:9#owner@user:olga'], { maxDepth: 2 });
    // viewer → manager → shop:9#owner needs three.
    await expectUndecided(relations.check('order:1', 'viewer', 'user:olga'), 'user:olga on order:1#viewer: depth limit 2 reached');
    expect(await relations.check('order:1', 'manager', 'user:olga')).toMatchObject({ ok: true });
  });

  it('fails closed past maxReads store reads, never making one more', async () => {
    const groups = Array.from({ length: 10 }, (_, i) => `doc:1#viewer@group:g${i}#member`);
    const { relations, store } = resolver(groups, { maxReads: 4 });
    await expectUndecided(relations.check('doc:1', 'viewer', 'user:nobody'), 'user:nobody on doc:1#viewer: read limit 4 reached');
    expect(store.reads).toEqual(['doc:1#viewer', 'group:g0#member', 'group:g1#member', 'group:g2#member']);
  });

  it('reads each tuple set once per check', async () => {
    const { relations, store } = resolver([
      'doc:1#owner@group:eng#member',
      'doc:1#editor@group:eng#member',
      'group:eng#member@user:bob',
    ]);
    expect(await relations.check('doc:1', 'viewer', 'user:carol')).toEqual({ ok: false });
    expect(store.reads).toEqual(['doc:1#viewer', 'doc:1#owner', 'group:eng#member', 'doc:1#editor']);
  });

  it('bounds the search of a dense cyclic graph without further reads', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `g${i}`);
    const tuples = names.flatMap((a) => names.filter((b) => b !== a).map((b) => `group:${a}#member@group:${b}#member`));
    const { relations, store } = resolver(tuples, { maxReads: 100 });
    await expectUndecided(relations.check('group:g0', 'member', 'user:nobody'), 'user:nobody on group:g0#member: search limit of 400 steps reached');
    expect(store.reads).toHaveLength(12);
  });
});

describe('RelationResolver refuses', () => {
  it('malformed objects and subjects, and undeclared relations', async () => {
    const { relations, store } = resolver(['order:42#owner@user:alice']);
    expect(await relations.check('order:4 2', 'owner', 'user:alice')).toEqual({ ok: false, detail: 'object id "4 2" contains "#", whitespace or a control character' });
    expect(await relations.check('order:42', 'owner', 'alice')).toEqual({ ok: false, detail: 'subject "alice" is not TYPE:ID' });
    // A token subject with "#" does not turn the caller into a userset the schema never declared.
    expect(await relations.check('order:42', 'owner', 'user:alice#member')).toEqual({ ok: false, detail: 'subject relation "user#member" is not declared' });
    expect(await relations.check('order:42', 'buyer', 'user:alice')).toEqual({ ok: false, detail: 'relation "order#buyer" is not declared' });
    expect(store.reads).toEqual([]);
  });

  it('turns a store failure into a store_unavailable deny', async () => {
    const { relations, store } = resolver(['order:42#owner@user:alice']);
    store.failWith = new Error('connection refused');
    const failure = await relations.check('order:42', 'owner', 'user:alice').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DenyError);
    expect(failure).toMatchObject({ reason: 'store_unavailable', detail: 'counting store: connection refused' });
  });
});

/** A check that hit a limit must deny the whole decision (relation_limit_reached), not answer "no". */
async function expectUndecided(answer: Promise<unknown>, detail: string): Promise<void> {
  const error = await answer.then(
    (value) => expect.fail(`expected relation_limit_reached, got ${JSON.stringify(value)}`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DenyError);
  expect(error).toMatchObject({ reason: 'relation_limit_reached', detail });
}
