// The StateStore contract: what every store (memory, Redis, ...) must do, as one suite that each
// store's test file runs against its own store. A store is created empty, with a clock the test
// can move forward (`clock.advance`), and filled through the StateStore API itself.
import { afterEach, describe, expect, it } from 'vitest';
import type { RelationTuple, Revocation, RoleBinding, StateChange, StateStore } from '../../src/state/store.js';
import { tuples as parseTuples } from '../helpers/relations.js';

export interface TestClock {
  /** Milliseconds since the epoch, as the store sees it. */
  now(): number;
  advance(ms: number): void;
}

export interface ContractStore {
  readonly store: StateStore;
  close(): Promise<void>;
}

/** Makes an empty store that reads the time from `now`. */
export type ContractStoreFactory = (now: () => number) => Promise<ContractStore>;

const tuples = (...texts: string[]): RelationTuple[] => parseTuples(texts);

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortTuples = (list: readonly RelationTuple[]) => [...list].sort((a, b) => byText(`${a.object}#${a.relation}@${a.subject}`, `${b.object}#${b.relation}@${b.subject}`));
const sortBindings = (list: readonly RoleBinding[]) => [...list].sort((a, b) => byText(JSON.stringify([a.subject, a.service ?? '', a.role]), JSON.stringify([b.subject, b.service ?? '', b.role])));
const sortRevocations = (list: readonly Revocation[]) => [...list].sort((a, b) => byText(`${a.kind}:${a.id}`, `${b.kind}:${b.id}`));

const SEEDED = tuples(
  'order:42#owner@user:alice',
  'order:42#viewer@group:eng#member',
  'order:42#viewer@user:bob',
  'order:43#owner@user:alice',
  'group:eng#member@user:bob',
);

export function storeContract(name: string, create: ContractStoreFactory): void {
  describe(`${name}: StateStore contract`, () => {
    let opened: ContractStore | undefined;
    let clock: TestClock;
    /** A time well in the future (seconds): entries that expire then are in force for the whole test. */
    let later: number;

    async function open(): Promise<StateStore> {
      let offset = 0;
      clock = { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
      later = Math.floor(Date.now() / 1000) + 3600;
      opened = await create(() => clock.now());
      return opened.store;
    }

    async function filled(): Promise<StateStore> {
      const store = await open();
      for (const tuple of SEEDED) await store.addTuple(tuple);
      return store;
    }

    /** Every change the store reports from now on, except `flush` (a store may flush at any time). */
    function changes(store: StateStore): StateChange[] {
      const seen: StateChange[] = [];
      store.onChange((change) => {
        if (change.kind !== 'flush') seen.push(change);
      });
      return seen;
    }

    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });

    describe('role bindings', () => {
      it('answers global bindings for every service and service bindings for their service only', async () => {
        const store = await open();
        await store.grantRole({ subject: 'alice', role: 'customer' });
        await store.grantRole({ subject: 'alice', role: 'finance', service: 'orders' });
        await store.grantRole({ subject: 'alice', role: 'editor', service: 'docs' });
        expect([...(await store.rolesFor('alice', 'orders'))].sort()).toEqual(['customer', 'finance']);
        expect([...(await store.rolesFor('alice', 'docs'))].sort()).toEqual(['customer', 'editor']);
        expect([...(await store.rolesFor('alice', 'billing'))]).toEqual(['customer']);
        expect([...(await store.rolesFor('nobody', 'orders'))]).toEqual([]);
      });

      it('grants a binding once however often it is granted', async () => {
        const store = await open();
        await store.grantRole({ subject: 'bob', role: 'support' });
        await store.grantRole({ subject: 'bob', role: 'support' });
        expect(await store.listRoleBindings('bob')).toEqual([{ subject: 'bob', role: 'support' }]);
      });

      it('revokes exactly the binding named: a global and a service binding of one role are distinct', async () => {
        const store = await open();
        await store.grantRole({ subject: 'carol', role: 'admin' });
        await store.grantRole({ subject: 'carol', role: 'admin', service: 'orders' });
        await store.revokeRole({ subject: 'carol', role: 'admin', service: 'orders' });
        expect(await store.listRoleBindings('carol')).toEqual([{ subject: 'carol', role: 'admin' }]);
        expect([...(await store.rolesFor('carol', 'orders'))]).toEqual(['admin']);
        await store.revokeRole({ subject: 'carol', role: 'admin' });
        expect(await store.listRoleBindings('carol')).toEqual([]);
        expect([...(await store.rolesFor('carol', 'orders'))]).toEqual([]);
        // Revoking what is not there is harmless.
        await store.revokeRole({ subject: 'carol', role: 'admin' });
        await store.revokeRole({ subject: 'nobody', role: 'x', service: 'y' });
      });

      it('lists every binding, or one subject\'s, with `service` only on service bindings', async () => {
        const store = await open();
        await store.grantRole({ subject: 'alice', role: 'customer' });
        await store.grantRole({ subject: 'fiona', role: 'finance', service: 'orders' });
        await store.grantRole({ subject: 'user@example.com', role: 'a:b' });
        expect(sortBindings(await store.listRoleBindings())).toEqual(
          sortBindings([
            { subject: 'alice', role: 'customer' },
            { subject: 'fiona', role: 'finance', service: 'orders' },
            { subject: 'user@example.com', role: 'a:b' },
          ]),
        );
        expect(await store.listRoleBindings('fiona')).toEqual([{ subject: 'fiona', role: 'finance', service: 'orders' }]);
        expect((await store.listRoleBindings('alice'))[0]).not.toHaveProperty('service');
        expect(await store.listRoleBindings('nobody')).toEqual([]);
      });
    });

    describe('relation tuples', () => {
      it('answers the direct subjects of object#relation, objects and usersets alike', async () => {
        const store = await filled();
        expect(await store.subjectsOf('order:42', 'owner')).toEqual(['user:alice']);
        expect([...(await store.subjectsOf('order:42', 'viewer'))].sort()).toEqual(['group:eng#member', 'user:bob']);
        expect(await store.subjectsOf('order:42', 'shop')).toEqual([]);
        expect(await store.subjectsOf('order:99', 'owner')).toEqual([]);
      });

      it('keeps relations whose names share a prefix apart', async () => {
        const store = await open();
        for (const tuple of tuples('doc:1#own@user:a', 'doc:1#owner@user:b', 'doc:1#owner_x@user:c', 'doc:1#owners@user:d')) await store.addTuple(tuple);
        expect(await store.subjectsOf('doc:1', 'own')).toEqual(['user:a']);
        expect(await store.subjectsOf('doc:1', 'owner')).toEqual(['user:b']);
        expect(await store.subjectsOf('doc:1', 'owner_x')).toEqual(['user:c']);
        expect(await store.listTuples({ object: 'doc:1', relation: 'owner' })).toEqual(tuples('doc:1#owner@user:b'));
      });

      it('takes ids with ":" and "@" in them', async () => {
        const store = await open();
        const [tuple] = tuples('file:a:b/c.txt#viewer@user:alice@example.com') as [RelationTuple];
        await store.addTuple(tuple);
        expect(await store.subjectsOf('file:a:b/c.txt', 'viewer')).toEqual(['user:alice@example.com']);
        expect(await store.listTuples({ subject: 'user:alice@example.com' })).toEqual([tuple]);
        expect(await store.listTuples()).toEqual([tuple]);
      });

      it('adds a tuple once and removes it; removing what is not there is harmless', async () => {
        const store = await open();
        const [tuple] = tuples('doc:1#viewer@user:carol') as [RelationTuple];
        await store.addTuple(tuple);
        await store.addTuple({ ...tuple });
        expect(await store.subjectsOf('doc:1', 'viewer')).toEqual(['user:carol']);
        expect(await store.listTuples()).toEqual([tuple]);
        await store.removeTuple(tuple);
        expect(await store.subjectsOf('doc:1', 'viewer')).toEqual([]);
        expect(await store.listTuples()).toEqual([]);
        expect(await store.listTuples({ subject: 'user:carol' })).toEqual([]);
        await store.removeTuple(tuple);
      });

      it('removes only the named tuple', async () => {
        const store = await filled();
        await store.removeTuple({ object: 'order:42', relation: 'viewer', subject: 'user:bob' });
        expect(await store.subjectsOf('order:42', 'viewer')).toEqual(['group:eng#member']);
        expect(await store.listTuples({ subject: 'user:bob' })).toEqual(tuples('group:eng#member@user:bob'));
      });

      it('lists tuples by object, relation, subject or any combination', async () => {
        const store = await filled();
        expect(sortTuples(await store.listTuples())).toEqual(sortTuples(SEEDED));
        expect(sortTuples(await store.listTuples({ object: 'order:42' }))).toEqual(sortTuples(SEEDED.slice(0, 3)));
        expect(sortTuples(await store.listTuples({ object: 'order:42', relation: 'viewer' }))).toEqual(sortTuples(SEEDED.slice(1, 3)));
        expect(sortTuples(await store.listTuples({ subject: 'user:alice' }))).toEqual(tuples('order:42#owner@user:alice', 'order:43#owner@user:alice'));
        expect(await store.listTuples({ subject: 'user:alice', relation: 'owner', object: 'order:43' })).toEqual(tuples('order:43#owner@user:alice'));
        expect(await store.listTuples({ subject: 'user:alice', relation: 'viewer' })).toEqual([]);
        expect(await store.listTuples({ relation: 'member' })).toEqual(tuples('group:eng#member@user:bob'));
        expect(await store.listTuples({ subject: 'group:eng#member' })).toEqual(tuples('order:42#viewer@group:eng#member'));
        expect(await store.listTuples({ object: 'order:404' })).toEqual([]);
      });

      it('refuses a malformed tuple', async () => {
        const store = await open();
        await expect(store.addTuple({ object: 'order42', relation: 'owner', subject: 'user:alice' })).rejects.toThrow('invalid relation tuple: object "order42" is not TYPE:ID');
        await expect(store.addTuple({ object: 'order:1', relation: 'Owner', subject: 'user:alice' })).rejects.toThrow('invalid relation tuple');
        await expect(store.addTuple({ object: 'order:1', relation: 'owner', subject: 'alice' })).rejects.toThrow('subject "alice" is not TYPE:ID');
        expect(await store.listTuples()).toEqual([]);
      });

      it('keeps role bindings apart from tuples', async () => {
        const store = await filled();
        await store.grantRole({ subject: 'alice', role: 'customer' });
        expect([...(await store.rolesFor('alice', 'orders'))]).toEqual(['customer']);
        expect(await store.subjectsOf('alice', 'customer')).toEqual([]);
        expect([...(await store.rolesFor('user:alice', 'orders'))]).toEqual([]);
      });
    });

    describe('revocations', () => {
      it('revokes one token by its jti', async () => {
        const store = await open();
        await store.revoke({ kind: 'token', id: 'jti-1', expiresAt: later });
        expect(await store.revocationFor({ subject: 'alice', jti: 'jti-1', issuedAt: 100 })).toEqual({ kind: 'token', id: 'jti-1', expiresAt: later });
        expect(await store.revocationFor({ subject: 'alice', jti: 'jti-2', issuedAt: 100 })).toBeUndefined();
        expect(await store.revocationFor({ subject: 'alice' })).toBeUndefined();
      });

      it('revokes every token of a session by its sid', async () => {
        const store = await open();
        await store.revoke({ kind: 'session', id: 'sid-9', expiresAt: later });
        expect(await store.revocationFor({ subject: 'bob', jti: 'a', sid: 'sid-9' })).toEqual({ kind: 'session', id: 'sid-9', expiresAt: later });
        expect(await store.revocationFor({ subject: 'bob', jti: 'b', sid: 'sid-8' })).toBeUndefined();
      });

      it('revokes the tokens a subject was issued before a time, and tokens without iat', async () => {
        const store = await open();
        await store.revoke({ kind: 'subject', id: 'carol', before: 1000, expiresAt: later });
        const revocation = { kind: 'subject', id: 'carol', before: 1000, expiresAt: later };
        expect(await store.revocationFor({ subject: 'carol', issuedAt: 999 })).toEqual(revocation);
        expect(await store.revocationFor({ subject: 'carol' })).toEqual(revocation);
        expect(await store.revocationFor({ subject: 'carol', issuedAt: 1000 })).toBeUndefined();
        expect(await store.revocationFor({ subject: 'dave', issuedAt: 1 })).toBeUndefined();
      });

      it('keeps the latest `before` and the latest expiry of a subject, whatever the order', async () => {
        const store = await open();
        await store.revoke({ kind: 'subject', id: 'erin', before: 2000, expiresAt: later + 10 });
        await store.revoke({ kind: 'subject', id: 'erin', before: 1000, expiresAt: later + 20 });
        expect(await store.listRevocations()).toEqual([{ kind: 'subject', id: 'erin', before: 2000, expiresAt: later + 20 }]);
        await store.revoke({ kind: 'subject', id: 'erin', before: 3000, expiresAt: later });
        expect(await store.listRevocations()).toEqual([{ kind: 'subject', id: 'erin', before: 3000, expiresAt: later + 20 }]);
        expect(await store.revocationFor({ subject: 'erin', issuedAt: 2999 })).toMatchObject({ before: 3000 });
        expect(await store.revocationFor({ subject: 'erin', issuedAt: 3000 })).toBeUndefined();
      });

      it('lets a subject revocation without `before` (every token) win a merge', async () => {
        const store = await open();
        await store.revoke({ kind: 'subject', id: 'frank', before: 1000, expiresAt: later });
        await store.revoke({ kind: 'subject', id: 'frank', expiresAt: later });
        await store.revoke({ kind: 'subject', id: 'frank', before: 5000, expiresAt: later });
        expect(await store.listRevocations()).toEqual([{ kind: 'subject', id: 'frank', expiresAt: later }]);
        expect(await store.revocationFor({ subject: 'frank', issuedAt: 999_999 })).toEqual({ kind: 'subject', id: 'frank', expiresAt: later });
      });

      it('records a revocation once however often it is made', async () => {
        const store = await open();
        await store.revoke({ kind: 'token', id: 'jti-1', expiresAt: later });
        await store.revoke({ kind: 'token', id: 'jti-1', expiresAt: later });
        expect(await store.listRevocations()).toEqual([{ kind: 'token', id: 'jti-1', expiresAt: later }]);
      });

      it('lists the revocations in force; an expired one neither applies nor is listed', async () => {
        const store = await open();
        await store.revoke({ kind: 'token', id: 'short', expiresAt: later });
        await store.revoke({ kind: 'session', id: 'long', expiresAt: later + 100 });
        await store.revoke({ kind: 'subject', id: 'gina', before: 10, expiresAt: later + 100 });
        expect(sortRevocations(await store.listRevocations())).toEqual(
          sortRevocations([
            { kind: 'token', id: 'short', expiresAt: later },
            { kind: 'session', id: 'long', expiresAt: later + 100 },
            { kind: 'subject', id: 'gina', before: 10, expiresAt: later + 100 },
          ]),
        );
        clock.advance(3600_000);
        expect(await store.revocationFor({ subject: 'x', jti: 'short' })).toBeUndefined();
        expect(sortRevocations(await store.listRevocations()).map((revocation) => revocation.id)).toEqual(['long', 'gina']);
        clock.advance(100_000);
        expect(await store.listRevocations()).toEqual([]);
        expect(await store.revocationFor({ subject: 'gina', issuedAt: 1, sid: 'long' })).toBeUndefined();
      });

      it('checks the token, session and subject entries of one token', async () => {
        const store = await open();
        await store.revoke({ kind: 'subject', id: 'hal', before: 50, expiresAt: later });
        await store.revoke({ kind: 'token', id: 'jti-h', expiresAt: later });
        // The subject entry does not catch a token issued after `before`, the token entry does.
        expect(await store.revocationFor({ subject: 'hal', jti: 'jti-h', issuedAt: 100 })).toEqual({ kind: 'token', id: 'jti-h', expiresAt: later });
        expect(await store.revocationFor({ subject: 'hal', jti: 'other', issuedAt: 10 })).toMatchObject({ kind: 'subject', id: 'hal' });
        expect(await store.revocationFor({ subject: 'hal', jti: 'other', issuedAt: 100 })).toBeUndefined();
      });
    });

    describe('changes', () => {
      it('reports each write as it is made', async () => {
        const store = await open();
        const seen = changes(store);
        await store.grantRole({ subject: 'alice', role: 'admin' });
        expect(seen).toEqual([{ kind: 'roles', subject: 'alice' }]);
        await store.revokeRole({ subject: 'alice', role: 'admin' });
        expect(seen.at(-1)).toEqual({ kind: 'roles', subject: 'alice' });
        await store.addTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
        expect(seen.at(-1)).toEqual({ kind: 'tuples', object: 'doc:1', relation: 'viewer' });
        await store.removeTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
        expect(seen.at(-1)).toEqual({ kind: 'tuples', object: 'doc:1', relation: 'viewer' });
        const revocation: Revocation = { kind: 'subject', id: 'alice', before: 100, expiresAt: later };
        await store.revoke(revocation);
        expect(seen.at(-1)).toEqual({ kind: 'revocation', revocation });
        expect(seen).toHaveLength(5);
      });

      it('reports nothing for removing a tuple that is not there', async () => {
        const store = await open();
        const seen = changes(store);
        await store.removeTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:nobody' });
        expect(seen).toEqual([]);
      });

      it('tells every listener', async () => {
        const store = await open();
        const first = changes(store);
        const second = changes(store);
        await store.grantRole({ subject: 'ida', role: 'x' });
        expect(first).toEqual([{ kind: 'roles', subject: 'ida' }]);
        expect(second).toEqual(first);
      });
    });

    it('names its kind and reports itself healthy', async () => {
      const store = await open();
      expect(store.kind).toMatch(/^[a-z]+$/);
      expect(store.health().healthy).toBe(true);
    });
  });
}
