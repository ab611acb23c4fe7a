// The caching store in front of a remote store: hits and misses, invalidation by the change feed,
// single-flight, the race between a read in flight and an invalidation, serve-stale, fail-closed,
// the LRU bound, ttl expiry and the rules that keep a revocation from ever being missed.
import { describe, expect, it } from 'vitest';
import { CachingStore, type CachingStoreOptions } from '../../src/state/caching-store.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { StoreObserver } from '../../src/state/store-observer.js';
import type { Revocation, RoleBinding, StateChange, TokenFacts } from '../../src/state/store.js';
import { ControlledStore } from '../helpers/controlled-store.js';
import { tuples } from '../helpers/relations.js';

const START = Date.UTC(2026, 0, 1);
const SECONDS = Math.floor(START / 1000);
const HOUR = 3600;

/** Counts every observation as "what:op:detail". */
class RecordingObserver implements StoreObserver {
  readonly counts = new Map<string, number>();
  operation(op: string, result: string): void {
    this.add(`op:${op}:${result}`);
  }
  innerCall(op: string): void {
    this.add(`inner:${op}`);
  }
  cacheLookup(op: string, hit: boolean): void {
    this.add(`${hit ? 'hit' : 'miss'}:${op}`);
  }
  invalidation(kind: string): void {
    this.add(`invalidation:${kind}`);
  }
  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  private add(name: string): void {
    this.counts.set(name, this.count(name) + 1);
  }
}

interface Setup {
  readonly inner: ControlledStore;
  readonly store: CachingStore;
  readonly observer: RecordingObserver;
  /** Moves the clock of the cache and of the data forward. */
  advance(ms: number): void;
}

function setup(bindings: readonly RoleBinding[] = [], options: CachingStoreOptions = {}, texts: string[] = []): Setup {
  let now = START;
  const clock = () => now;
  const inner = new ControlledStore(new MemoryStore(bindings, tuples(texts), clock));
  const observer = new RecordingObserver();
  const store = new CachingStore(inner, { maxEntries: 100, ttl: 30_000, now: clock, observer, ...options });
  return { inner, store, observer, advance: (ms) => (now += ms) };
}

const roles = async (store: CachingStore, subject: string, service = 'orders', maxStaleMs?: number) =>
  [...(await store.rolesFor(subject, service, maxStaleMs === undefined ? undefined : { maxStaleMs }))].sort();

const token = (subject: string, extra: Partial<TokenFacts> = {}): TokenFacts => ({ subject, issuedAt: SECONDS - 60, ...extra });

const revocation = (kind: Revocation['kind'], id: string, extra: Partial<Revocation> = {}): Revocation => ({
  kind,
  id,
  expiresAt: SECONDS + HOUR,
  ...(kind === 'subject' && { before: SECONDS }),
  ...extra,
});

describe('CachingStore reads', () => {
  it('answers a repeated read from the cache, and counts hits and misses', async () => {
    const { inner, store, observer } = setup([{ subject: 'alice', role: 'customer' }]);
    expect(await roles(store, 'alice')).toEqual(['customer']);
    expect(await roles(store, 'alice')).toEqual(['customer']);
    expect(await roles(store, 'alice')).toEqual(['customer']);
    expect(inner.calls.rolesFor).toBe(1);
    expect(observer.count('miss:rolesFor')).toBe(1);
    expect(observer.count('hit:rolesFor')).toBe(2);
    expect(observer.count('op:rolesFor:ok')).toBe(3);
    expect(observer.count('inner:rolesFor')).toBe(1);
    // Another service is another answer.
    await roles(store, 'alice', 'billing');
    expect(inner.calls.rolesFor).toBe(2);
  });

  it('caches "none" answers too: no roles, no tuples, not revoked', async () => {
    const { inner, store } = setup();
    for (let i = 0; i < 3; i++) {
      expect(await roles(store, 'nobody')).toEqual([]);
      expect(await store.subjectsOf('order:1', 'owner')).toEqual([]);
      expect(await store.revocationFor(token('nobody', { jti: 'j1' }))).toBeUndefined();
    }
    expect(inner.calls).toEqual({ rolesFor: 1, subjectsOf: 1, revocationFor: 1, apiKey: 0, session: 0, subjectProperties: 0 });
    expect(store.sizes).toEqual({ roles: 1, tuples: 1, revocations: 1, apiKeys: 0, sessions: 0, subjects: 0 });
  });

  it('does not hand the backing store the read options: staleness is decided here', async () => {
    const { inner, store } = setup();
    await store.rolesFor('alice', 'orders', { maxStaleMs: 5000 });
    expect(inner.options).toEqual([undefined]);
  });

  it('reports the backing store kind and health', () => {
    const { inner, store } = setup();
    expect(store.kind).toBe('remote');
    expect(store.health()).toEqual({ healthy: true });
    inner.healthy = false;
    expect(store.health()).toEqual({ healthy: false, detail: 'change feed down' });
  });

  it('uses an answer for ttl, then asks again', async () => {
    const { inner, store, advance } = setup([{ subject: 'alice', role: 'customer' }], { ttl: 30_000 });
    await roles(store, 'alice');
    advance(29_999);
    await roles(store, 'alice');
    expect(inner.calls.rolesFor).toBe(1);
    advance(1);
    await roles(store, 'alice');
    expect(inner.calls.rolesFor).toBe(2);
  });

  it('bounds staleness by ttl even when change messages are lost', async () => {
    const { inner, store, advance } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    inner.muted = true;
    await inner.revokeRole({ subject: 'alice', role: 'customer' });
    expect(await roles(store, 'alice')).toEqual(['customer']);
    advance(30_000);
    expect(await roles(store, 'alice')).toEqual([]);
  });

  it('holds at most maxEntries answers per cache, evicting the least recently used', async () => {
    const { inner, store } = setup([], { maxEntries: 2 });
    await roles(store, 'a');
    await roles(store, 'b');
    await roles(store, 'a'); // a is now the most recently used
    await roles(store, 'c'); // evicts b
    expect(store.sizes.roles).toBe(2);
    expect(inner.calls.rolesFor).toBe(3);
    await roles(store, 'a');
    expect(inner.calls.rolesFor).toBe(3);
    await roles(store, 'b');
    expect(inner.calls.rolesFor).toBe(4);
    expect(store.sizes.roles).toBe(2);
  });

  it('keeps expired answers (for stale use) within the same bound', async () => {
    const { store, advance } = setup([], { maxEntries: 3, ttl: 1000 });
    for (const subject of ['a', 'b', 'c', 'd', 'e']) {
      await roles(store, subject);
      advance(5000);
    }
    expect(store.sizes.roles).toBe(3);
  });
});

describe('CachingStore single-flight', () => {
  it('makes identical reads in flight once and shares the answer', async () => {
    const { inner, store, observer } = setup([{ subject: 'alice', role: 'customer' }]);
    const release = inner.hold();
    const reads = [roles(store, 'alice'), roles(store, 'alice'), roles(store, 'alice')];
    const other = roles(store, 'bob');
    release();
    expect(await Promise.all(reads)).toEqual([['customer'], ['customer'], ['customer']]);
    expect(await other).toEqual([]);
    expect(inner.calls.rolesFor).toBe(2);
    expect(observer.count('inner:rolesFor')).toBe(2);
  });

  it('shares a failure too, and the next read tries again', async () => {
    const { inner, store } = setup();
    inner.failure = new Error('connection refused');
    const reads = [store.subjectsOf('order:1', 'owner'), store.subjectsOf('order:1', 'owner')];
    for (const read of reads) await expect(read).rejects.toThrow('connection refused');
    expect(inner.calls.subjectsOf).toBe(1);
    inner.failure = undefined;
    expect(await store.subjectsOf('order:1', 'owner')).toEqual([]);
    expect(inner.calls.subjectsOf).toBe(2);
  });

  it('a read that started before an invalidation does not fill the cache with its outdated answer', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }]);
    const release = inner.hold();
    const before = roles(store, 'alice'); // read by the backing store now, answered later
    await inner.taken();
    await inner.revokeRole({ subject: 'alice', role: 'customer' }); // its change arrives meanwhile
    release();
    expect(await before).toEqual(['customer']); // asked before the change: may see the old state
    expect(await roles(store, 'alice')).toEqual([]);
    expect(inner.calls.rolesFor).toBe(2);
    expect(await roles(store, 'alice')).toEqual([]); // the new answer is cached
    expect(inner.calls.rolesFor).toBe(2);
  });

  it('a read arriving after an invalidation does not join a read that started before it', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }]);
    const release = inner.hold();
    const before = roles(store, 'alice');
    await inner.taken();
    await inner.revokeRole({ subject: 'alice', role: 'customer' });
    const after = roles(store, 'alice');
    release();
    expect(await before).toEqual(['customer']);
    expect(await after).toEqual([]);
    expect(inner.calls.rolesFor).toBe(2);
  });

  it('a flush abandons every read in flight', async () => {
    const { inner, store } = setup([], {}, ['order:1#owner@user:alice']);
    const release = inner.hold();
    const before = store.subjectsOf('order:1', 'owner');
    await inner.taken();
    inner.muted = true;
    await inner.removeTuple({ object: 'order:1', relation: 'owner', subject: 'user:alice' });
    inner.publish({ kind: 'flush' });
    release();
    expect(await before).toEqual(['user:alice']);
    expect(await store.subjectsOf('order:1', 'owner')).toEqual([]);
  });
});

describe('CachingStore invalidation', () => {
  it('roles: drops every answer for that subject, all services, and nothing else', async () => {
    const { inner, store, observer } = setup([
      { subject: 'alice', role: 'customer' },
      { subject: 'alice', role: 'finance', service: 'billing' },
      { subject: 'bob', role: 'support' },
    ]);
    await roles(store, 'alice', 'orders');
    await roles(store, 'alice', 'billing');
    await roles(store, 'bob');
    await inner.revokeRole({ subject: 'alice', role: 'customer' });
    expect(store.sizes.roles).toBe(1);
    expect(await roles(store, 'alice', 'orders')).toEqual([]);
    expect(await roles(store, 'alice', 'billing')).toEqual(['finance']);
    expect(await roles(store, 'bob')).toEqual(['support']);
    expect(inner.calls.rolesFor).toBe(5);
    expect(observer.count('invalidation:roles')).toBe(1);
  });

  it('tuples: drops that object#relation only', async () => {
    const { inner, store, observer } = setup([], {}, ['order:1#owner@user:alice', 'order:1#viewer@user:bob', 'order:2#owner@user:carol']);
    await store.subjectsOf('order:1', 'owner');
    await store.subjectsOf('order:1', 'viewer');
    await store.subjectsOf('order:2', 'owner');
    await inner.addTuple({ object: 'order:1', relation: 'owner', subject: 'user:dave' });
    expect(store.sizes.tuples).toBe(2);
    expect(await store.subjectsOf('order:1', 'owner')).toEqual(['user:alice', 'user:dave']);
    await store.subjectsOf('order:1', 'viewer');
    await store.subjectsOf('order:2', 'owner');
    expect(inner.calls.subjectsOf).toBe(4);
    expect(observer.count('invalidation:tuples')).toBe(1);
  });

  it('revocation: drops the answers for tokens with that jti, sid or subject, and no others', async () => {
    const { inner, store, observer } = setup();
    const tokens = {
      a1: token('alice', { jti: 'a1', sid: 's-alice' }),
      a2: token('alice', { jti: 'a2', sid: 's-alice' }),
      a3: token('alice', { jti: 'a3', sid: 's-other' }),
      b1: token('bob', { jti: 'b1' }),
    };
    const read = async () => {
      const out: Record<string, string | undefined> = {};
      for (const [name, facts] of Object.entries(tokens)) out[name] = (await store.revocationFor(facts))?.kind;
      return out;
    };
    expect(await read()).toEqual({ a1: undefined, a2: undefined, a3: undefined, b1: undefined });
    expect(inner.calls.revocationFor).toBe(4);

    await inner.revoke(revocation('token', 'a1'));
    expect(store.sizes.revocations).toBe(3);
    expect(await read()).toEqual({ a1: 'token', a2: undefined, a3: undefined, b1: undefined });
    expect(inner.calls.revocationFor).toBe(5);

    await inner.revoke(revocation('session', 's-alice'));
    expect(await read()).toEqual({ a1: 'token', a2: 'session', a3: undefined, b1: undefined });
    expect(inner.calls.revocationFor).toBe(7);

    await inner.revoke(revocation('subject', 'alice'));
    expect(store.sizes.revocations).toBe(1);
    expect(await read()).toEqual({ a1: 'token', a2: 'session', a3: 'subject', b1: undefined });
    expect(inner.calls.revocationFor).toBe(10);
    expect(observer.count('invalidation:revocation')).toBe(3);
  });

  it('subject: drops that subject\'s directory record only', async () => {
    const { inner, store } = setup();
    await inner.data.putSubject('alice', { email: 'a@example.com' });
    await inner.data.putSubject('bob', { email: 'b@example.com' });
    inner.muted = true;
    expect(await store.subjectProperties('alice')).toEqual({ email: 'a@example.com' });
    expect(await store.subjectProperties('bob')).toEqual({ email: 'b@example.com' });
    await inner.data.putSubject('alice', { email: 'new@example.com' });
    // Unheard, the cached answer stands (until its ttl).
    expect(await store.subjectProperties('alice')).toEqual({ email: 'a@example.com' });
    inner.publish({ kind: 'subject', id: 'alice' });
    expect(await store.subjectProperties('alice')).toEqual({ email: 'new@example.com' });
    expect(await store.subjectProperties('bob')).toEqual({ email: 'b@example.com' });
    expect(inner.calls.subjectProperties).toBe(3);
  });

  it('flush: drops everything', async () => {
    const { inner, store, observer } = setup([{ subject: 'alice', role: 'customer' }], {}, ['order:1#owner@user:alice']);
    await roles(store, 'alice');
    await store.subjectsOf('order:1', 'owner');
    await store.revocationFor(token('alice'));
    await store.apiKey('k1');
    await store.session('s1');
    await store.subjectProperties('alice');
    expect(store.sizes.subjects).toBe(1);
    inner.publish({ kind: 'flush' });
    expect(store.sizes).toEqual({ roles: 0, tuples: 0, revocations: 0, apiKeys: 0, sessions: 0, subjects: 0 });
    await roles(store, 'alice');
    await store.subjectsOf('order:1', 'owner');
    await store.revocationFor(token('alice'));
    await store.apiKey('k1');
    await store.session('s1');
    await store.subjectProperties('alice');
    expect(inner.calls).toEqual({ rolesFor: 2, subjectsOf: 2, revocationFor: 2, apiKey: 2, session: 2, subjectProperties: 2 });
    expect(observer.count('invalidation:flush')).toBe(1);
  });

  it('passes every change on to its own listeners, after invalidating', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    const seen: StateChange[] = [];
    store.onChange(() => {
      throw new Error('a broken listener');
    });
    store.onChange((change) => {
      seen.push(change);
      expect(store.sizes.roles).toBe(0);
    });
    await inner.grantRole({ subject: 'alice', role: 'admin' });
    await inner.addTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
    await inner.revoke(revocation('token', 'j1'));
    inner.publish({ kind: 'flush' });
    expect(seen).toEqual([
      { kind: 'roles', subject: 'alice' },
      { kind: 'tuples', object: 'doc:1', relation: 'viewer' },
      { kind: 'revocation', revocation: revocation('token', 'j1') },
      { kind: 'flush' },
    ]);
  });

  it('a write through it is read back at once, even before its change message arrives', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }], {}, ['order:1#owner@user:alice']);
    await roles(store, 'alice');
    await store.subjectsOf('order:1', 'owner');
    await store.revocationFor(token('alice', { jti: 'j1' }));
    inner.muted = true;
    await store.revokeRole({ subject: 'alice', role: 'customer' });
    await store.removeTuple({ object: 'order:1', relation: 'owner', subject: 'user:alice' });
    await store.revoke(revocation('token', 'j1'));
    expect(await roles(store, 'alice')).toEqual([]);
    expect(await store.subjectsOf('order:1', 'owner')).toEqual([]);
    expect((await store.revocationFor(token('alice', { jti: 'j1' })))?.kind).toBe('token');
  });

  it('a write through it that fails (it may still have been applied) invalidates too', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    inner.muted = true;
    inner.writeFailure = new Error('Command timed out');
    await expect(store.revokeRole({ subject: 'alice', role: 'customer' })).rejects.toThrow('Command timed out');
    expect(await roles(store, 'alice')).toEqual([]);
  });

  it('does not trust cached answers while the backing store is unhealthy (its change feed may be down)', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    inner.healthy = false;
    await roles(store, 'alice');
    await roles(store, 'alice');
    expect(inner.calls.rolesFor).toBe(3);
    inner.healthy = true;
    await roles(store, 'alice');
    expect(inner.calls.rolesFor).toBe(3);
  });
});

describe('CachingStore when the backing store fails', () => {
  it('fails closed by default: the error is passed on, cached answer or not', async () => {
    const { inner, store, advance, observer } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    advance(30_000);
    inner.failure = new Error('connection refused');
    await expect(roles(store, 'alice')).rejects.toThrow('connection refused');
    await expect(roles(store, 'alice', 'orders', 0)).rejects.toThrow('connection refused');
    await expect(store.revocationFor(token('alice'))).rejects.toThrow('connection refused');
    expect(observer.count('op:rolesFor:error')).toBe(2);
  });

  it('serves a cached answer up to maxStale old, past its ttl', async () => {
    const { inner, store, advance, observer } = setup([{ subject: 'alice', role: 'customer' }], {}, ['order:1#owner@user:alice']);
    await roles(store, 'alice');
    await store.subjectsOf('order:1', 'owner');
    await store.revocationFor(token('alice'));
    advance(45_000);
    inner.failure = new Error('connection refused');
    expect(await roles(store, 'alice', 'orders', 60_000)).toEqual(['customer']);
    expect(await store.subjectsOf('order:1', 'owner', { maxStaleMs: 45_000 })).toEqual(['user:alice']);
    expect(await store.revocationFor(token('alice'), { maxStaleMs: 60_000 })).toBeUndefined();
    expect(observer.count('op:rolesFor:stale')).toBe(1);
    expect(observer.count('op:subjectsOf:stale')).toBe(1);
    expect(observer.count('op:revocationFor:stale')).toBe(1);
    // Older than maxStale: the error.
    await expect(roles(store, 'alice', 'orders', 44_999)).rejects.toThrow('connection refused');
    advance(20_000);
    await expect(roles(store, 'alice', 'orders', 60_000)).rejects.toThrow('connection refused');
    // Nothing cached for this one: the error.
    await expect(roles(store, 'bob', 'orders', 60_000)).rejects.toThrow('connection refused');
  });

  it('serves stale while the backing store is unhealthy and failing, fresh answer or not', async () => {
    const { inner, store } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    inner.healthy = false;
    inner.failure = new Error('connection closed');
    await expect(roles(store, 'alice')).rejects.toThrow('connection closed');
    expect(await roles(store, 'alice', 'orders', 30_000)).toEqual(['customer']);
  });

  it('single-flight callers each get their own failure behaviour', async () => {
    const { inner, store, advance } = setup([{ subject: 'alice', role: 'customer' }]);
    await roles(store, 'alice');
    advance(31_000);
    inner.failure = new Error('timeout');
    const [strict, lenient] = await Promise.allSettled([roles(store, 'alice'), roles(store, 'alice', 'orders', 60_000)]);
    expect(strict).toMatchObject({ status: 'rejected', reason: new Error('timeout') });
    expect(lenient).toEqual({ status: 'fulfilled', value: ['customer'] });
    expect(inner.calls.rolesFor).toBe(2);
  });
});

describe('CachingStore revocation rules', () => {
  it('once a revocation change has arrived, no read answers "not revoked" for that token, not even a stale one', async () => {
    const { inner, store } = setup();
    const facts = token('alice', { jti: 'j1' });
    expect(await store.revocationFor(facts)).toBeUndefined();
    // The change arrives while the store is failing: the stale "not revoked" must be gone.
    inner.failure = new Error('connection refused');
    inner.publish({ kind: 'revocation', revocation: revocation('token', 'j1') });
    await expect(store.revocationFor(facts, { maxStaleMs: 3_600_000 })).rejects.toThrow('connection refused');
  });

  it('a revocation arriving while its token is being checked is enforced on every later check', async () => {
    const { inner, store } = setup();
    const facts = token('alice', { sid: 's1' });
    let release = inner.hold();
    const inFlight = store.revocationFor(facts);
    await inner.taken();
    await inner.revoke(revocation('session', 's1'));
    release();
    expect(await inFlight).toBeUndefined(); // asked before the change
    expect((await store.revocationFor(facts))?.kind).toBe('session');
    // And a check arriving while the outdated read is still in flight does not join it.
    const other = token('bob', { sid: 's2' });
    release = inner.hold();
    const outdated = store.revocationFor(other);
    await inner.taken();
    await inner.revoke(revocation('session', 's2'));
    const next = store.revocationFor(other);
    release();
    expect(await outdated).toBeUndefined();
    expect((await next)?.kind).toBe('session');
  });

  it('a subject revocation applies by iat: tokens issued before it are revoked, later ones not', async () => {
    const { inner, store } = setup();
    const old = token('alice', { issuedAt: SECONDS - 10 });
    const fresh = token('alice', { issuedAt: SECONDS + 10 });
    const noIat: TokenFacts = { subject: 'alice' };
    await inner.revoke(revocation('subject', 'alice', { before: SECONDS }));
    expect((await store.revocationFor(old))?.kind).toBe('subject');
    expect(await store.revocationFor(fresh)).toBeUndefined();
    expect((await store.revocationFor(noIat))?.kind).toBe('subject');
    // A later "before" catches the cached "not revoked" token too.
    await inner.revoke(revocation('subject', 'alice', { before: SECONDS + 20 }));
    expect((await store.revocationFor(fresh))?.kind).toBe('subject');
  });

  it('a cached revocation stops applying when it expires', async () => {
    const { store, inner, advance } = setup([], { ttl: 3_600_000 });
    const facts = token('alice', { jti: 'j1' });
    await inner.revoke(revocation('token', 'j1', { expiresAt: SECONDS + 10 }));
    expect((await store.revocationFor(facts))?.id).toBe('j1');
    advance(10_000);
    expect(await store.revocationFor(facts)).toBeUndefined();
    expect(inner.calls.revocationFor).toBe(1);
  });

  it('a token is cached by all its facts: the same jti with another iat is another answer', async () => {
    const { inner, store } = setup();
    await store.revocationFor(token('alice', { jti: 'j1', issuedAt: 1 }));
    await store.revocationFor(token('alice', { jti: 'j1', issuedAt: 2 }));
    await store.revocationFor(token('alice', { jti: 'j1', issuedAt: 1 }));
    expect(inner.calls.revocationFor).toBe(2);
  });
});
