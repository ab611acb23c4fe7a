// The caching store's API key and session caches: answers (unknown ids too) are cached per id,
// every change to an id drops exactly that id, serve-stale follows ReadOptions, and across real
// replicas on one private redis-server a delete or touch on one is seen by the other at once
// (the caches live an hour here, so only the change feed can explain it).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CachingStore } from '../../src/state/caching-store.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { ApiKeyRecord, SessionRecord } from '../../src/state/store.js';
import { ControlledStore } from '../helpers/controlled-store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ChangeRecorder, eventually, openRedisStore, uniquePrefix } from '../helpers/redis-store.js';

const START = Date.UTC(2026, 0, 1);
const SECONDS = Math.floor(START / 1000);

const KEY: ApiKeyRecord = { id: 'AbCdEfGh1234', subject: 'svc:ci', hash: 'aGFzaA', scopes: ['orders:read'], createdAt: SECONDS - 60 };
const SESSION: SessionRecord = { id: 'sess-1', subject: 'alice', createdAt: SECONDS - 60, lastSeenAt: SECONDS - 60, expiresAt: SECONDS + 3600 };

function setup() {
  let now = START;
  const clock = () => now;
  const inner = new ControlledStore(new MemoryStore([], [], clock));
  const store = new CachingStore(inner, { maxEntries: 100, ttl: 30_000, now: clock });
  return { inner, store, advance: (ms: number) => (now += ms) };
}

describe('CachingStore API keys and sessions', () => {
  it('answers repeated reads of a key or session from the cache, unknown ids included', async () => {
    const { inner, store } = setup();
    await inner.data.putApiKey(KEY);
    await inner.data.putSession(SESSION);
    for (let i = 0; i < 3; i++) {
      expect(await store.apiKey(KEY.id)).toEqual(KEY);
      expect(await store.apiKey('unknown00000')).toBeUndefined();
      expect(await store.session(SESSION.id)).toEqual(SESSION);
    }
    expect(inner.calls).toMatchObject({ apiKey: 2, session: 1 });
    expect(store.sizes).toMatchObject({ apiKeys: 2, sessions: 1 });
  });

  it('drops exactly the id a change names, so a deleted key is refused at the next read', async () => {
    const { inner, store } = setup();
    await inner.data.putApiKey(KEY);
    await inner.data.putApiKey({ ...KEY, id: 'other0000000' });
    await store.apiKey(KEY.id);
    await store.apiKey('other0000000');
    await store.session(SESSION.id);
    // Deleted behind the cache's back, as another replica would: the change message does the rest.
    await inner.data.deleteApiKey(KEY.id);
    expect(await store.apiKey(KEY.id)).toBeUndefined();
    expect(inner.calls.apiKey).toBe(3);
    await store.apiKey('other0000000');
    await store.session(SESSION.id);
    expect(inner.calls).toMatchObject({ apiKey: 3, session: 1 });
  });

  it('a key created after its id was tried is found at once (the "unknown" answer is dropped)', async () => {
    const { inner, store } = setup();
    expect(await store.apiKey(KEY.id)).toBeUndefined();
    await inner.data.putApiKey(KEY);
    expect(await store.apiKey(KEY.id)).toEqual(KEY);
  });

  it('a lost delete message is bounded by ttl', async () => {
    const { inner, store, advance } = setup();
    await inner.data.putApiKey(KEY);
    await store.apiKey(KEY.id);
    inner.muted = true;
    await inner.data.deleteApiKey(KEY.id);
    expect(await store.apiKey(KEY.id)).toEqual(KEY);
    advance(30_000);
    expect(await store.apiKey(KEY.id)).toBeUndefined();
  });

  it('reads its own writes: put, touch and delete through it invalidate at once', async () => {
    const { inner, store } = setup();
    inner.muted = true;
    await store.putSession(SESSION);
    expect(await store.session(SESSION.id)).toEqual(SESSION);
    await store.touchSession(SESSION.id, SESSION.lastSeenAt + 30);
    expect((await store.session(SESSION.id))?.lastSeenAt).toBe(SESSION.lastSeenAt + 30);
    expect(await store.deleteSession(SESSION.id)).toBe(true);
    expect(await store.session(SESSION.id)).toBeUndefined();
    await store.putApiKey(KEY);
    expect(await store.apiKey(KEY.id)).toEqual(KEY);
    expect(await store.deleteApiKey(KEY.id)).toBe(true);
    expect(await store.apiKey(KEY.id)).toBeUndefined();
  });

  it('fails closed when the store fails, unless the caller allows a stale answer', async () => {
    const { inner, store, advance } = setup();
    await inner.data.putApiKey(KEY);
    await store.apiKey(KEY.id);
    advance(31_000);
    inner.failure = new Error('connection refused');
    await expect(store.apiKey(KEY.id)).rejects.toThrow('connection refused');
    await expect(store.session(SESSION.id)).rejects.toThrow('connection refused');
    expect(await store.apiKey(KEY.id, { maxStaleMs: 60_000 })).toEqual(KEY);
  });

  it('a flush drops every cached key and session', async () => {
    const { inner, store } = setup();
    await store.apiKey(KEY.id);
    await store.session(SESSION.id);
    inner.publish({ kind: 'flush' });
    expect(store.sizes).toMatchObject({ apiKeys: 0, sessions: 0 });
  });
});

describe('CachingStore replicas on one Redis', () => {
  let server: RedisServer;
  const opened: CachingStore[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await server?.remove();
  });

  /** Two replicas (each a CachingStore over its own RedisStore, one key prefix) whose caches live an hour. */
  async function replicas(): Promise<[CachingStore, CachingStore]> {
    const keyPrefix = uniquePrefix();
    const made = await Promise.all([0, 1].map(async () => new CachingStore(await openRedisStore(server, { keyPrefix }), { ttl: 3_600_000 })));
    opened.push(...made);
    await eventually(() => made.every((store) => store.health().healthy), 5000, 'both change feeds subscribed');
    return made as [CachingStore, CachingStore];
  }

  const now = () => Math.floor(Date.now() / 1000);

  it('an API key deleted on one replica is refused by the other at once', async () => {
    const [a, b] = await replicas();
    const key: ApiKeyRecord = { ...KEY, createdAt: now() };
    const heardByA = new ChangeRecorder(a);
    // Wait from before the write: the change can arrive before putApiKey's reply does.
    const heard = heardByA.next((change) => change.kind === 'apiKey');
    await b.putApiKey(key);
    await heard;
    expect(await a.apiKey(key.id)).toEqual(key);
    expect(await a.apiKey(key.id)).toEqual(key);

    const deleted = heardByA.next((change) => change.kind === 'apiKey');
    expect(await b.deleteApiKey(key.id)).toBe(true);
    expect(await deleted).toEqual({ kind: 'apiKey', id: key.id });
    expect(await a.apiKey(key.id)).toBeUndefined();
  });

  it('a session logged out on one replica is refused by the other at once; a touch is seen too', async () => {
    const [a, b] = await replicas();
    const session: SessionRecord = { ...SESSION, createdAt: now(), lastSeenAt: now(), expiresAt: now() + 600 };
    await a.putSession(session);
    expect(await b.session(session.id)).toEqual(session);
    const heardByB = new ChangeRecorder(b);

    const touched = heardByB.next((change) => change.kind === 'session');
    await a.touchSession(session.id, session.lastSeenAt + 5);
    await touched;
    expect((await b.session(session.id))?.lastSeenAt).toBe(session.lastSeenAt + 5);

    const loggedOut = heardByB.next((change) => change.kind === 'session');
    expect(await a.deleteSession(session.id)).toBe(true);
    await loggedOut;
    expect(await b.session(session.id)).toBeUndefined();
  });

  it('a key created on one replica after the other cached "unknown" is accepted there at once', async () => {
    const [a, b] = await replicas();
    const key: ApiKeyRecord = { ...KEY, id: 'late00000000', createdAt: now() };
    expect(await a.apiKey(key.id)).toBeUndefined();
    const heardByA = new ChangeRecorder(a);
    // Wait from before the write: the change can arrive before putApiKey's reply does.
    const heard = heardByA.next((change) => change.kind === 'apiKey');
    await b.putApiKey(key);
    await heard;
    expect(await a.apiKey(key.id)).toEqual(key);
  });
});
