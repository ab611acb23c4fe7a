// The caching store against the StateStore contract: in front of a memory store (where every change
// is reported at once) and in front of a Redis store on a private redis-server. A cache must not
// change what a store answers, only how often the backing store is asked.
import { afterAll, beforeAll } from 'vitest';
import { CachingStore } from '../../src/state/caching-store.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { eventually, openRedisStore } from '../helpers/redis-store.js';
import { storeContract } from './store-contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.remove();
});

storeContract('CachingStore over MemoryStore', async (now) => {
  const store = new CachingStore(new MemoryStore([], [], now), { now });
  return { store, close: () => store.close() };
});

storeContract('CachingStore over RedisStore', async (now) => {
  const store = new CachingStore(await openRedisStore(server, {}, { now }), { now });
  // Healthy once the change feed is subscribed too.
  await eventually(() => store.health().healthy, 5000, 'the change feed is subscribed');
  return { store, close: () => store.close() };
});
