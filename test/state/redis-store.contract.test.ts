// The Redis store against the StateStore contract, on a private redis-server (one per file; every
// store on its own key prefix).
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from '../helpers/redis-server.js';
import { openRedisStore } from '../helpers/redis-store.js';
import { storeContract } from './store-contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.remove();
});

storeContract('RedisStore', async (now) => {
  const store = await openRedisStore(server, {}, { now });
  return { store, close: () => store.close() };
});
