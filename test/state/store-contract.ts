// The StateStore contract: what every store (memory, Redis, ...) must do, as one suite that each
// store's test file runs against its own store. A store is created empty, with a clock the test
// can move forward (`clock.advance`), and filled through the StateStore API itself.
import { afterEach, describe, expect, it } from 'vitest';
import { EXPIRED_RECORD_RETENTION_SECONDS, type ApiKeyRecord, type RelationTuple, type Revocation, type RoleBinding, type SessionRecord, type StateChange, type StateStore } from '../../src/state/store.js';
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

    describe('API keys', () => {
      const key = (id: string, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id,
        subject: 'svc:ci',
        hash: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
        scopes: ['orders:read', 'orders:write'],
        createdAt: 1_700_000_000,
        ...extra,
      });

      it('stores a key and reads it back by id, optional fields only when set', async () => {
        const store = await open();
        const full = key('AbCdEfGh1234', { name: 'ci deploy', expiresAt: later });
        await store.putApiKey(full);
        await store.putApiKey(key('plain0000000', { scopes: [] }));
        expect(await store.apiKey('AbCdEfGh1234')).toEqual(full);
        const plain = await store.apiKey('plain0000000');
        expect(plain).toEqual(key('plain0000000', { scopes: [] }));
        expect(plain).not.toHaveProperty('name');
        expect(plain).not.toHaveProperty('expiresAt');
        expect(await store.apiKey('unknown00000')).toBeUndefined();
        // Ids are exact: no prefix or case folding.
        expect(await store.apiKey('abcdefgh1234')).toBeUndefined();
        expect(await store.apiKey('AbCdEfGh123')).toBeUndefined();
      });

      it('replaces a key stored again under the same id', async () => {
        const store = await open();
        await store.putApiKey(key('k1', { scopes: ['a'] }));
        await store.putApiKey(key('k1', { scopes: ['b'], hash: 'other', expiresAt: later }));
        expect(await store.apiKey('k1')).toEqual(key('k1', { scopes: ['b'], hash: 'other', expiresAt: later }));
        expect(await store.listApiKeys()).toHaveLength(1);
      });

      it('deletes a key: true once, then false; it is neither read nor listed again', async () => {
        const store = await open();
        await store.putApiKey(key('k1'));
        await store.putApiKey(key('k2'));
        expect(await store.deleteApiKey('k1')).toBe(true);
        expect(await store.deleteApiKey('k1')).toBe(false);
        expect(await store.deleteApiKey('never')).toBe(false);
        expect(await store.apiKey('k1')).toBeUndefined();
        expect((await store.listApiKeys()).map((record) => record.id)).toEqual(['k2']);
        expect(await store.listApiKeys('svc:ci')).toEqual([key('k2')]);
      });

      it('lists every key, or one subject\'s, sorted by subject, creation and id', async () => {
        const store = await open();
        await store.putApiKey(key('z1', { subject: 'bob', createdAt: 10 }));
        await store.putApiKey(key('a2', { subject: 'alice', createdAt: 20 }));
        await store.putApiKey(key('a1', { subject: 'alice', createdAt: 20 }));
        await store.putApiKey(key('a0', { subject: 'alice', createdAt: 30 }));
        expect((await store.listApiKeys()).map((record) => record.id)).toEqual(['a1', 'a2', 'a0', 'z1']);
        expect((await store.listApiKeys('alice')).map((record) => record.id)).toEqual(['a1', 'a2', 'a0']);
        expect(await store.listApiKeys('bob')).toEqual([key('z1', { subject: 'bob', createdAt: 10 })]);
        expect(await store.listApiKeys('nobody')).toEqual([]);
      });

      it('keeps an expired key (so it can be reported as expired) until its retention has passed', async () => {
        const store = await open();
        await store.putApiKey(key('short', { expiresAt: later }));
        await store.putApiKey(key('forever'));
        clock.advance(3600_000 + 1000);
        expect(await store.apiKey('short')).toEqual(key('short', { expiresAt: later }));
        clock.advance(EXPIRED_RECORD_RETENTION_SECONDS * 1000);
        expect(await store.apiKey('short')).toBeUndefined();
        expect((await store.listApiKeys()).map((record) => record.id)).toEqual(['forever']);
        expect(await store.apiKey('forever')).toBeDefined();
      });

      it('refuses a malformed record and stores nothing', async () => {
        const store = await open();
        await expect(store.putApiKey(key('bad', { expiresAt: Number.NaN }))).rejects.toThrow(/expiresAt must be seconds since the epoch/);
        await expect(store.putApiKey(key('bad', { subject: '' }))).rejects.toThrow(/subject must be/);
        await expect(store.putApiKey(key('bad', { scopes: ['two words'] }))).rejects.toThrow(/scopes\[0\]/);
        await expect(store.putApiKey(key('bad id'))).rejects.toThrow(/id must be/);
        expect(await store.listApiKeys()).toEqual([]);
      });
    });

    describe('sessions', () => {
      const session = (id: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
        id,
        subject: 'alice',
        createdAt: 1_700_000_000,
        lastSeenAt: 1_700_000_000,
        expiresAt: later,
        ...extra,
      });

      it('stores a session and reads it back, with its claims when it has them', async () => {
        const store = await open();
        const withClaims = session('s1', { claims: { acr: 'urn:loa:2', amr: ['pwd', 'otp'], auth_time: 1_700_000_000 } });
        await store.putSession(withClaims);
        await store.putSession(session('s2'));
        expect(await store.session('s1')).toEqual(withClaims);
        expect(await store.session('s2')).toEqual(session('s2'));
        expect(await store.session('s2')).not.toHaveProperty('claims');
        expect(await store.session('s3')).toBeUndefined();
      });

      it('moves lastSeenAt forward only, and touches nothing that is not there', async () => {
        const store = await open();
        await store.putSession(session('s1'));
        await store.touchSession('s1', 1_700_000_100);
        expect(await store.session('s1')).toEqual(session('s1', { lastSeenAt: 1_700_000_100 }));
        await store.touchSession('s1', 1_700_000_050);
        expect((await store.session('s1'))?.lastSeenAt).toBe(1_700_000_100);
        // Milliseconds are kept.
        await store.touchSession('s1', 1_700_000_100.125);
        expect((await store.session('s1'))?.lastSeenAt).toBe(1_700_000_100.125);
        await store.touchSession('gone', 1_700_000_100);
        expect(await store.session('gone')).toBeUndefined();
        await expect(store.touchSession('s1', Number.NaN)).rejects.toThrow(/lastSeenAt/);
      });

      it('deletes a session (logout): true once, then false', async () => {
        const store = await open();
        await store.putSession(session('s1'));
        expect(await store.deleteSession('s1')).toBe(true);
        expect(await store.deleteSession('s1')).toBe(false);
        expect(await store.session('s1')).toBeUndefined();
        expect(await store.listSessions()).toEqual([]);
      });

      it('lists every session, or one subject\'s, sorted', async () => {
        const store = await open();
        await store.putSession(session('b1', { subject: 'bob' }));
        await store.putSession(session('a2', { createdAt: 1_700_000_001 }));
        await store.putSession(session('a1', { createdAt: 1_700_000_002 }));
        expect((await store.listSessions()).map((record) => record.id)).toEqual(['a2', 'a1', 'b1']);
        expect((await store.listSessions('bob')).map((record) => record.id)).toEqual(['b1']);
        expect(await store.listSessions('nobody')).toEqual([]);
      });

      it('drops a session once its retention past the absolute expiry has passed', async () => {
        const store = await open();
        await store.putSession(session('s1'));
        await store.putSession(session('s2', { expiresAt: later + EXPIRED_RECORD_RETENTION_SECONDS }));
        clock.advance((3600 + EXPIRED_RECORD_RETENTION_SECONDS) * 1000 + 1000);
        expect(await store.session('s1')).toBeUndefined();
        expect((await store.listSessions()).map((record) => record.id)).toEqual(['s2']);
      });

      it('refuses a malformed record', async () => {
        const store = await open();
        await expect(store.putSession(session('s1', { expiresAt: -1 }))).rejects.toThrow(/expiresAt/);
        await expect(store.putSession(session('s1', { claims: { amr: ['two words'] } }))).rejects.toThrow(/claims\.amr\[0\]/);
        expect(await store.session('s1')).toBeUndefined();
      });
    });

    describe('subject directory', () => {
      const alice = { email: 'alice@example.com', name: 'Alice', tags: ['a', 'b'], level: 3, manager: null, address: { city: 'Berlin' } };

      it('stores a record and reads it back; an unknown subject has none', async () => {
        const store = await open();
        await store.putSubject('alice', alice);
        expect(await store.subjectProperties('alice')).toEqual(alice);
        expect(await store.subjectProperties('bob')).toBeUndefined();
        await store.putSubject('user@example.com', {});
        expect(await store.subjectProperties('user@example.com')).toEqual({});
      });

      it('replaces a record set again (no merge), and deletes it: true once, then false', async () => {
        const store = await open();
        await store.putSubject('alice', alice);
        await store.putSubject('alice', { email: 'new@example.com' });
        expect(await store.subjectProperties('alice')).toEqual({ email: 'new@example.com' });
        expect(await store.deleteSubject('alice')).toBe(true);
        expect(await store.deleteSubject('alice')).toBe(false);
        expect(await store.subjectProperties('alice')).toBeUndefined();
        expect((await store.listSubjects()).subjects).toEqual([]);
      });

      it('lists records in id order, a page at a time, the cursor continuing after the last', async () => {
        const store = await open();
        for (const id of ['dan', 'alice', 'carol', 'bob', 'erin']) await store.putSubject(id, { n: id });
        const first = await store.listSubjects({ limit: 2 });
        expect(first.subjects.map((record) => record.id)).toEqual(['alice', 'bob']);
        expect(first.subjects[0]).toEqual({ id: 'alice', properties: { n: 'alice' } });
        const second = await store.listSubjects({ limit: 2, cursor: first.next! });
        expect(second.subjects.map((record) => record.id)).toEqual(['carol', 'dan']);
        const third = await store.listSubjects({ limit: 2, cursor: second.next! });
        expect(third).toEqual({ subjects: [{ id: 'erin', properties: { n: 'erin' } }] });
        expect((await store.listSubjects()).subjects).toHaveLength(5);
        // A page that ends exactly at the last record has no next.
        expect((await store.listSubjects({ limit: 5 })).next).toBeUndefined();
        await expect(store.listSubjects({ limit: 0 })).rejects.toThrow(/limit/);
        await expect(store.listSubjects({ limit: 1001 })).rejects.toThrow(/limit/);
      });

      it('refuses malformed and oversized records and stores nothing', async () => {
        const store = await open();
        await expect(store.putSubject('two words', {})).rejects.toThrow(/subject id/);
        await expect(store.putSubject('', {})).rejects.toThrow(/subject id/);
        await expect(store.putSubject('x', [] as never)).rejects.toThrow(/JSON object/);
        await expect(store.putSubject('x', { n: Number.NaN })).rejects.toThrow(/finite/);
        await expect(store.putSubject('x', { big: 'y'.repeat(70 * 1024) })).rejects.toThrow(/bytes of JSON, more than 65536/);
        await expect(store.putSubject('x', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, i])))).rejects.toThrow(/300 properties/);
        let deep: Record<string, unknown> = {};
        const root = deep;
        for (let level = 0; level < 10; level++) deep = deep.next = {};
        await expect(store.putSubject('x', root as never)).rejects.toThrow(/nested more than 8/);
        expect(await store.subjectProperties('x')).toBeUndefined();
        expect((await store.listSubjects()).subjects).toEqual([]);
      });

      it('reports each set and delete by id, nothing for deleting what is not there', async () => {
        const store = await open();
        const seen = changes(store);
        await store.putSubject('alice', alice);
        await store.deleteSubject('alice');
        await store.deleteSubject('alice');
        expect(seen).toEqual([
          { kind: 'subject', id: 'alice' },
          { kind: 'subject', id: 'alice' },
        ]);
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

      it('reports each API key and session write and delete by id', async () => {
        const store = await open();
        const seen = changes(store);
        await store.putApiKey({ id: 'k1', subject: 'svc', hash: 'aGFzaA', scopes: [], createdAt: 1 });
        await store.deleteApiKey('k1');
        await store.putSession({ id: 's1', subject: 'alice', createdAt: 1, lastSeenAt: 1, expiresAt: later });
        await store.touchSession('s1', 2);
        await store.deleteSession('s1');
        expect(seen).toEqual([
          { kind: 'apiKey', id: 'k1' },
          { kind: 'apiKey', id: 'k1' },
          { kind: 'session', id: 's1' },
          { kind: 'session', id: 's1' },
          { kind: 'session', id: 's1' },
        ]);
      });

      it('reports nothing for deleting what is not there or a touch that changes nothing', async () => {
        const store = await open();
        await store.putSession({ id: 's1', subject: 'alice', createdAt: 1, lastSeenAt: 5, expiresAt: later });
        const seen = changes(store);
        await store.deleteApiKey('nothing');
        await store.deleteSession('nothing');
        await store.touchSession('nothing', 10);
        await store.touchSession('s1', 5);
        expect(seen).toEqual([]);
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
