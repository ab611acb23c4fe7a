// The Redis store through Sentinel and in Cluster mode, on private servers: the whole StateStore
// contract, the change feed, and (Sentinel) a failover to a replica while the store is in use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/state/redis/redis-store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ChangeRecorder, eventually, redisSettings, uniquePrefix } from '../helpers/redis-store.js';
import { storeContract } from './store-contract.js';

async function connected(store: RedisStore): Promise<RedisStore> {
  if (!(await store.connected(10_000))) {
    await store.close();
    throw new Error(`not connected: ${store.health().detail}`);
  }
  return store;
}

describe('through Sentinel', () => {
  const name = 'keycard-master';
  let master: RedisServer;
  let sentinel: RedisServer;
  beforeAll(async () => {
    master = await RedisServer.start();
    sentinel = await RedisServer.start({ sentinelFor: { masterPort: master.port, name } });
  });
  afterAll(async () => {
    await sentinel?.remove();
    await master?.remove();
  });

  const sentinelStore = (fields: Record<string, unknown> = {}, now?: () => number) =>
    connected(new RedisStore({ settings: redisSettings({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name, ...fields }), ...(now && { now }) }));

  storeContract('RedisStore via Sentinel', async (now) => {
    const store = await sentinelStore({}, now);
    return { store, close: () => store.close() };
  });

  it('shares writes and changes between two stores', async () => {
    const keyPrefix = uniquePrefix();
    const [a, b] = await Promise.all([sentinelStore({ keyPrefix }), sentinelStore({ keyPrefix })]);
    try {
      const heard = new ChangeRecorder(b);
      await heard.flush();
      const change = heard.next((c) => c.kind === 'roles');
      await a.grantRole({ subject: 'alice', role: 'admin' });
      expect(await change).toEqual({ kind: 'roles', subject: 'alice' });
      expect([...(await b.rolesFor('alice', 'any'))]).toEqual(['admin']);
      expect(a.health().detail).toContain(`sentinel master "${name}"`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('through Sentinel, across a failover', () => {
  const name = 'keycard-failover';
  const servers: RedisServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.reverse().map((server) => server.remove()));
  });

  it('follows the master to the promoted replica when the master dies, keeping state and change feed', async () => {
    const master = await RedisServer.start();
    servers.push(master);
    const replica = await RedisServer.start({ replicaOf: master.port });
    servers.push(replica);
    await eventually(async () => String(await master.command('INFO', 'replication')).includes('connected_slaves:1'), 10_000, 'the replica attaching');
    // Sentinel learns of the replica from the master's INFO, which it asks for at once, then every 10 s.
    const sentinel = await RedisServer.start({ sentinelFor: { masterPort: master.port, name } });
    servers.push(sentinel);
    await eventually(async () => (await sentinel.command('SENTINEL', 'REPLICAS', name) as unknown[]).length === 1, 15_000, 'sentinel knowing the replica');

    const settings = redisSettings({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name });
    const store = await connected(new RedisStore({ settings }));
    const other = await connected(new RedisStore({ settings }));
    try {
      const heard = new ChangeRecorder(store);
      await heard.flush();
      await store.grantRole({ subject: 'alice', role: 'admin' });
      await eventually(async () => Number(await replica.command('EXISTS', store.keys.roles('alice'))) === 1, 5000, 'replication');

      // The master dies: operations fail fast until Sentinel has promoted the replica.
      const flushed = heard.flush(20_000);
      await master.stop();
      const [failed] = await Promise.allSettled([store.rolesFor('alice', 'orders')]);
      expect(failed!.status).toBe('rejected');
      await eventually(async () => String(await replica.command('ROLE')).startsWith('master'), 20_000, 'the replica being promoted');
      await eventually(async () => store.grantRole({ subject: 'bob', role: 'support' }).then(() => true, () => false), 15_000, 'a write succeeding after the failover');
      expect(Number(await replica.command('SISMEMBER', store.keys.roles('bob'), JSON.stringify(['', 'support'])))).toBe(1);
      // The change feed reconnected (to the new master) and said that changes may have been missed.
      await flushed;
      expect([...(await store.rolesFor('alice', 'orders'))]).toEqual(['admin']);
      await eventually(() => store.health().healthy, 10_000, 'healthy after the failover');
      // Changes made by another store after the failover are still heard.
      await eventually(async () => other.grantRole({ subject: 'carol', role: 'x' }).then(() => true, () => false), 15_000, 'the other store writing');
      await heard.next((change) => change.kind === 'roles' && change.subject === 'carol', 10_000);
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  }, 60_000);
});

describe('in Cluster mode (one node owning every slot)', () => {
  let node: RedisServer;
  beforeAll(async () => {
    node = await RedisServer.start({ cluster: true });
  });
  afterAll(async () => {
    await node?.remove();
  });

  const clusterStore = (fields: Record<string, unknown> = {}, now?: () => number) =>
    connected(new RedisStore({ settings: redisSettings({ cluster: [{ host: '127.0.0.1', port: node.port }], ...fields }), ...(now && { now }) }));

  storeContract('RedisStore in Cluster mode', async (now) => {
    const store = await clusterStore({}, now);
    return { store, close: () => store.close() };
  });

  it('shares writes and changes between two stores, and flushes after the feed is dropped', async () => {
    const keyPrefix = uniquePrefix();
    const [a, b] = await Promise.all([clusterStore({ keyPrefix }), clusterStore({ keyPrefix })]);
    try {
      const heard = new ChangeRecorder(b);
      await heard.flush();
      const change = heard.next((c) => c.kind === 'tuples');
      await a.addTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
      expect(await change).toEqual({ kind: 'tuples', object: 'doc:1', relation: 'viewer' });
      expect(await b.subjectsOf('doc:1', 'viewer')).toEqual(['user:bob']);
      const flushed = heard.flush();
      await node.killPubSubClients();
      await flushed;
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('rejects at once while the cluster is down and recovers when it is back', async () => {
    const own = await RedisServer.start({ cluster: true });
    const store = await connected(new RedisStore({ settings: redisSettings({ cluster: [{ host: '127.0.0.1', port: own.port }] }) }));
    try {
      const heard = new ChangeRecorder(store);
      await heard.flush();
      await own.stop();
      await eventually(() => !store.health().healthy, 3000, 'unhealthy');
      const started = Date.now();
      await expect(store.rolesFor('alice', 'orders')).rejects.toThrow(/Redis rolesFor failed: not connected to Redis/);
      expect(Date.now() - started).toBeLessThan(3000);
      const flushed = heard.flush(15_000);
      await own.restart();
      await eventually(() => store.health().healthy, 15_000, 'healthy again');
      await flushed;
      await store.grantRole({ subject: 'alice', role: 'admin' });
      expect([...(await store.rolesFor('alice', 'orders'))]).toEqual(['admin']);
    } finally {
      await store.close();
      await own.remove();
    }
  }, 40_000);
});
