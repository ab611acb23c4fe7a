// The store a serving keycard reads: a Redis store behind the read cache, a memory store as it is;
// and the cache over a real Redis store, invalidated by another replica's write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachingStore } from '../../src/state/caching-store.js';
import { createServingStore, createStore } from '../../src/state/create-store.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { RedisStore } from '../../src/state/redis/redis-store.js';
import type { StoreObserver } from '../../src/state/store-observer.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ChangeRecorder, eventually, openRedisStore, redisSettings } from '../helpers/redis-store.js';

let server: RedisServer;
const stores: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await server?.remove();
});

describe('createServingStore', () => {
  it('leaves a memory store uncached', () => {
    expect(createServingStore({ type: 'memory' })).toBeInstanceOf(MemoryStore);
  });

  it('puts a Redis store behind the read cache; createStore (the state commands) does not', async () => {
    const settings = redisSettings({ url: server.url(), cache: { maxEntries: 2, ttl: '1h' } });
    const plain = createStore(settings);
    stores.push(plain);
    expect(plain).toBeInstanceOf(RedisStore);

    const hits: string[] = [];
    const observer: StoreObserver = { operation() {}, innerCall() {}, cacheLookup: (op, hit) => hits.push(`${op}:${hit}`), invalidation() {} };
    const serving = createServingStore(settings, undefined, undefined, observer);
    stores.push(serving);
    expect(serving).toBeInstanceOf(CachingStore);
    expect((serving as CachingStore).inner).toBeInstanceOf(RedisStore);
    expect(serving.kind).toBe('redis');
    await eventually(() => serving.health().healthy, 5000, 'the serving store is healthy (connected and subscribed)');

    const writer = await openRedisStore(server, { keyPrefix: settings.keyPrefix });
    stores.push(writer);
    const changes = new ChangeRecorder(serving);
    const granted = changes.next((change) => change.kind === 'roles');
    await writer.grantRole({ subject: 'alice', role: 'customer' });
    await granted;
    expect([...(await serving.rolesFor('alice', 'orders'))]).toEqual(['customer']);
    expect([...(await serving.rolesFor('alice', 'orders'))]).toEqual(['customer']);
    expect(hits).toEqual(['rolesFor:false', 'rolesFor:true']);

    // Another replica's write reaches this one through the change feed and drops the answer.
    const removed = changes.next((change) => change.kind === 'roles');
    await writer.revokeRole({ subject: 'alice', role: 'customer' });
    await removed;
    expect([...(await serving.rolesFor('alice', 'orders'))]).toEqual([]);
    // The cache is sized from the settings.
    await serving.rolesFor('bob', 'orders');
    await serving.rolesFor('carol', 'orders');
    expect((serving as CachingStore).sizes.roles).toBe(2);
  });
});
