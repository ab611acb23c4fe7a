// What only the Redis store does: replicas sharing state and changes over pub/sub, a change feed
// that flushes after it reconnects, failing fast (and recovering) when Redis is down or hung,
// clear errors, revocations that expire in Redis, seeding once, and no secret in any message.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CachingStore } from '../../src/state/caching-store.js';
import { createStore } from '../../src/state/create-store.js';
import { RedisStore } from '../../src/state/redis/redis-store.js';
import { seedDigest } from '../../src/state/redis/seed.js';
import type { StateChange } from '../../src/state/store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ChangeRecorder, eventually, openRedisStore, redisSettings, uniquePrefix } from '../helpers/redis-store.js';
import { Workspace } from '../helpers/workspace.js';

/** Generous bound for "fails fast": far above the 250 ms command timeout, far below a hang. */
const FAST_MS = 3000;

let server: RedisServer;
const stores: RedisStore[] = [];
const servers: RedisServer[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(servers.splice(0).map((extra) => extra.remove()));
});
afterAll(async () => {
  await server?.remove();
});

async function open(on: RedisServer = server, fields: Record<string, unknown> = {}, options: Parameters<typeof openRedisStore>[2] = {}): Promise<RedisStore> {
  const store = await openRedisStore(on, fields, options);
  stores.push(store);
  return store;
}

/** A server of the test's own, for tests that stop, pause or restart it. */
async function ownServer(options?: Parameters<typeof RedisServer.start>[0]): Promise<RedisServer> {
  const own = await RedisServer.start(options);
  servers.push(own);
  return own;
}

/** Settles `promise`, and says how long that took. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = Date.now();
  const [result] = await Promise.allSettled([promise]);
  return { ms: Date.now() - started, result: result! };
}

const notFlush = (change: StateChange) => change.kind !== 'flush';

describe('RedisStore replicas', () => {
  it('see each other\'s writes and hear each other\'s changes, each change once', async () => {
    const keyPrefix = uniquePrefix();
    const a = await open(server, { keyPrefix });
    const b = await open(server, { keyPrefix });
    const heardByA = new ChangeRecorder(a);
    const heardByB = new ChangeRecorder(b);
    await Promise.all([heardByA.flush(), heardByB.flush()]);
    heardByA.seen.length = 0;
    heardByB.seen.length = 0;

    const roleChange = heardByB.next(notFlush);
    await a.grantRole({ subject: 'alice', role: 'admin', service: 'orders' });
    expect(await roleChange).toEqual({ kind: 'roles', subject: 'alice' });
    expect([...(await b.rolesFor('alice', 'orders'))]).toEqual(['admin']);

    const tupleChange = heardByA.next(notFlush);
    await b.addTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
    expect(await tupleChange).toEqual({ kind: 'tuples', object: 'doc:1', relation: 'viewer' });
    expect(await a.subjectsOf('doc:1', 'viewer')).toEqual(['user:bob']);

    const revocation = { kind: 'token', id: 'jti-1', expiresAt: Math.floor(Date.now() / 1000) + 600 } as const;
    const revocationChange = heardByB.next(notFlush);
    await a.revoke(revocation);
    expect(await revocationChange).toEqual({ kind: 'revocation', revocation });
    expect(await b.revocationFor({ subject: 'x', jti: 'jti-1' })).toEqual(revocation);

    // A marker write by b, heard by a, proves a has received everything published before it.
    const marker = heardByA.next((change) => change.kind === 'roles' && change.subject === 'marker');
    await b.grantRole({ subject: 'marker', role: 'm' });
    await marker;
    const own = (store: 'a' | 'b', seen: StateChange[]) => seen.filter(notFlush).map((change) => `${store}:${change.kind}`);
    // Each store heard its own writes once (told locally, its own messages skipped) and the other's once.
    expect(own('a', heardByA.seen)).toEqual(['a:roles', 'a:tuples', 'a:revocation', 'a:roles']);
    await eventually(() => heardByB.seen.filter(notFlush).length === 4, 2000, 'b hearing its marker');
    expect(own('b', heardByB.seen)).toEqual(['b:roles', 'b:tuples', 'b:revocation', 'b:roles']);
  });

  it('share the subject directory: a replica\'s cached properties drop when another replica changes them', async () => {
    const keyPrefix = uniquePrefix();
    const a = await open(server, { keyPrefix });
    const b = new CachingStore(await open(server, { keyPrefix }), { ttl: 60_000 });
    await eventually(() => b.health().healthy, 5000, 'the change feed is subscribed');
    const heardByB = new ChangeRecorder(b);
    const created = heardByB.next((change) => change.kind === 'subject');
    await a.putSubject('alice', { email: 'alice@example.com' });
    await created;
    expect(await b.subjectProperties('alice')).toEqual({ email: 'alice@example.com' });
    // Cached now: read again without asking Redis.
    expect(b.sizes.subjects).toBe(1);

    const changed = heardByB.next((change) => change.kind === 'subject');
    await a.putSubject('alice', { email: 'alice@new.example.com' });
    expect(await changed).toEqual({ kind: 'subject', id: 'alice' });
    expect(await b.subjectProperties('alice')).toEqual({ email: 'alice@new.example.com' });

    const deleted = heardByB.next((change) => change.kind === 'subject');
    expect(await a.deleteSubject('alice')).toBe(true);
    await deleted;
    expect(await b.subjectProperties('alice')).toBeUndefined();
    expect((await b.listSubjects()).subjects).toEqual([]);
    await b.close();
  });

  it('do not hear a store on another key prefix', async () => {
    const a = await open();
    const b = await open();
    const heardByB = new ChangeRecorder(b);
    await heardByB.flush();
    await a.grantRole({ subject: 'alice', role: 'admin' });
    await b.grantRole({ subject: 'bob', role: 'x' });
    expect(heardByB.seen.filter(notFlush)).toEqual([{ kind: 'roles', subject: 'bob' }]);
    expect([...(await b.rolesFor('alice', 'orders'))]).toEqual([]);
  });
});

describe('RedisStore change feed', () => {
  it('flushes when its subscription was dropped, and keeps hearing changes', async () => {
    const keyPrefix = uniquePrefix();
    const writer = await open(server, { keyPrefix });
    const reader = await open(server, { keyPrefix });
    const heard = new ChangeRecorder(reader);
    await heard.flush();
    expect(reader.health().healthy).toBe(true);

    const flushed = heard.flush();
    expect(await server.killPubSubClients()).toBeGreaterThanOrEqual(1);
    await flushed;
    expect(reader.health().healthy).toBe(true);

    const change = heard.next(notFlush);
    await writer.grantRole({ subject: 'carol', role: 'support' });
    expect(await change).toEqual({ kind: 'roles', subject: 'carol' });
  });

  it('notices a subscription that stopped answering (its ping fails), and flushes when it is back', async () => {
    const own = await ownServer();
    const store = await open(own, { commandTimeout: '100ms' }, { pingIntervalMs: 100 });
    const heard = new ChangeRecorder(store);
    await heard.flush();
    own.pause();
    try {
      await eventually(() => !store.health().healthy, FAST_MS, 'unhealthy while Redis is paused');
      expect(store.health().detail).toMatch(/change feed not answering, reconnecting; last error: PING failed: Command timed out/);
    } finally {
      own.resume();
    }
    await heard.flush(10_000);
    await eventually(() => store.health().healthy, 5000, 'healthy again');
  });

  it('treats a message it cannot read as a flush', async () => {
    const store = await open();
    const heard = new ChangeRecorder(store);
    await heard.flush();
    const flushed = heard.flush();
    await server.command('PUBLISH', store.keys.channel, 'not json');
    await flushed;
    const alsoFlushed = heard.flush();
    await server.command('PUBLISH', store.keys.channel, JSON.stringify({ origin: 'x', change: { kind: 'roles' } }));
    await alsoFlushed;
  });
});

describe('RedisStore when Redis fails', () => {
  it('rejects at once while Redis is down, reports unhealthy, and recovers on its own', async () => {
    const own = await ownServer();
    const store = await open(own);
    const heard = new ChangeRecorder(store);
    await heard.flush();
    await store.grantRole({ subject: 'alice', role: 'admin' });

    await own.stop();
    await eventually(() => !store.health().healthy, FAST_MS, 'unhealthy after Redis stopped');
    // The change feed's connection may notice first ("change feed … reconnecting"); the command
    // connection's state joins the detail as soon as it notices too.
    await eventually(() => /connection (reconnecting|connecting|close)/.test(store.health().detail ?? ''), FAST_MS, 'the command connection reported down');
    expect(store.health().healthy).toBe(false);

    const operations: (() => Promise<unknown>)[] = [
      () => store.rolesFor('alice', 'orders'),
      () => store.subjectsOf('doc:1', 'viewer'),
      () => store.revocationFor({ subject: 'alice', jti: 'j' }),
      () => store.grantRole({ subject: 'bob', role: 'x' }),
      () => store.revoke({ kind: 'token', id: 'j', expiresAt: Math.floor(Date.now() / 1000) + 60 }),
      () => store.listTuples(),
    ];
    for (const operation of operations) {
      const { ms, result } = await timed(operation());
      expect(result.status).toBe('rejected');
      expect(ms).toBeLessThan(FAST_MS);
      expect(String((result as PromiseRejectedResult).reason)).toMatch(/^RedisStoreError: Redis \w+ failed: (not connected to Redis|the connection to Redis was lost)/);
    }

    const flushedAfterRestart = heard.flush(10_000);
    await own.restart();
    await eventually(() => store.health().healthy, 10_000, 'healthy after Redis restarted');
    await flushedAfterRestart;
    // The restarted server is empty (no persistence); the same store object works again.
    expect([...(await store.rolesFor('alice', 'orders'))]).toEqual([]);
    await store.grantRole({ subject: 'alice', role: 'admin' });
    expect([...(await store.rolesFor('alice', 'orders'))]).toEqual(['admin']);
  });

  it('rejects after the command timeout when Redis hangs', async () => {
    const own = await ownServer();
    const store = await open(own, { commandTimeout: '200ms' });
    own.pause();
    try {
      const { ms, result } = await timed(store.rolesFor('alice', 'orders'));
      expect(result.status).toBe('rejected');
      expect(String((result as PromiseRejectedResult).reason)).toContain('Redis rolesFor failed: Redis did not answer within 200ms');
      expect(ms).toBeLessThan(FAST_MS);
    } finally {
      own.resume();
    }
    await eventually(async () => (await store.rolesFor('alice', 'orders').then(() => true, () => false)), 5000, 'answers again after resume');
  });

  it('rejects when the first connection cannot be made, without waiting long', async () => {
    const own = await ownServer();
    await own.stop();
    const store = new RedisStore({ settings: redisSettings({ url: own.url(), connectTimeout: '300ms' }) });
    stores.push(store);
    const { ms, result } = await timed(store.rolesFor('alice', 'orders'));
    expect(result.status).toBe('rejected');
    expect(String((result as PromiseRejectedResult).reason)).toMatch(/not connected to Redis \((connecting|reconnecting)/);
    expect(ms).toBeLessThan(FAST_MS);
    expect(store.health()).toMatchObject({ healthy: false });
  });

  it('explains WRONGTYPE: a key under its prefix holds data it did not write', async () => {
    const store = await open();
    await server.command('SET', store.keys.roles('mallory'), 'not a set');
    await expect(store.rolesFor('mallory', 'orders')).rejects.toThrow(
      new RegExp(`^Redis rolesFor failed: WRONGTYPE .* a key under "${store.keys.prefix}" holds data keycard did not write`),
    );
    await expect(store.grantRole({ subject: 'mallory', role: 'x' })).rejects.toThrow(/Redis grantRole failed: .*WRONGTYPE/);
  });
});

describe('RedisStore revocations in Redis', () => {
  it('expire on their own at expiresAt', async () => {
    const store = await open();
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    await store.revoke({ kind: 'token', id: 'short-lived', expiresAt });
    const key = store.keys.revocation('token', 'short-lived');
    const ttl = Number(await server.command('PTTL', key));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
    expect(await store.revocationFor({ subject: 'x', jti: 'short-lived' })).toBeDefined();
    await eventually(async () => Number(await server.command('EXISTS', key)) === 0, 5000, 'the revocation key expiring');
    expect(await store.revocationFor({ subject: 'x', jti: 'short-lived' })).toBeUndefined();
    expect(await store.listRevocations()).toEqual([]);
  });

  it('keep the latest `before` of a subject when replicas revoke at once', async () => {
    const keyPrefix = uniquePrefix();
    const replicas = await Promise.all([1, 2, 3, 4].map(() => open(server, { keyPrefix })));
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    await Promise.all(replicas.flatMap((replica, index) => [1, 2, 3, 4, 5].map((step) => replica.revoke({ kind: 'subject', id: 'zed', before: index * 100 + step, expiresAt: expiresAt + step }))));
    expect(await replicas[0]!.listRevocations()).toEqual([{ kind: 'subject', id: 'zed', before: 305, expiresAt: expiresAt + 5 }]);
  });
});

describe('RedisStore seeding', () => {
  const seed = { roleBindings: [{ subject: 'alice', role: 'customer' }, { subject: 'fiona', role: 'finance', service: 'orders' }], tuples: [{ object: 'order:42', relation: 'owner', subject: 'user:alice' }] };

  it('applies the seed to a new store once; a restart does not undo live changes', async () => {
    const keyPrefix = uniquePrefix();
    const first = await open(server, { keyPrefix }, { seed });
    expect(await first.whenSeeded()).toMatchObject({ applied: true });
    expect(await first.listRoleBindings()).toEqual([{ subject: 'alice', role: 'customer' }, { subject: 'fiona', role: 'finance', service: 'orders' }]);
    expect(await first.subjectsOf('order:42', 'owner')).toEqual(['user:alice']);
    await first.revokeRole({ subject: 'alice', role: 'customer' });

    // A replica (or a restart) with the same seed leaves the live state alone.
    const second = await open(server, { keyPrefix }, { seed });
    expect(await second.whenSeeded()).toMatchObject({ applied: false, sameSeed: true });
    expect(await second.listRoleBindings('alice')).toEqual([]);

    // A changed seed is not applied either, and says so.
    const warnings: string[] = [];
    const third = await open(server, { keyPrefix }, { seed: { roleBindings: [{ subject: 'zoe', role: 'x' }] }, log: { info() {}, warn: (_fields, message) => warnings.push(message) } });
    expect(await third.whenSeeded()).toMatchObject({ applied: false, sameSeed: false });
    expect(await third.listRoleBindings('zoe')).toEqual([]);
    expect(warnings.join('\n')).toContain('the seed file differs');
  });

  it('seeds subject records too; a seed without subjects keeps the digest it always had', async () => {
    const keyPrefix = uniquePrefix();
    const withSubjects = { ...seed, subjects: [{ id: 'alice', properties: { email: 'alice@example.com' } }] };
    const store = await open(server, { keyPrefix }, { seed: withSubjects });
    expect(await store.whenSeeded()).toMatchObject({ applied: true });
    expect(await store.subjectProperties('alice')).toEqual({ email: 'alice@example.com' });
    expect((await store.listSubjects()).subjects).toEqual([{ id: 'alice', properties: { email: 'alice@example.com' } }]);
    expect(seedDigest(seed)).toBe(seedDigest({ ...seed, subjects: [] }));
    expect(seedDigest(seed)).not.toBe(seedDigest(withSubjects));
  });

  it('seeds once when replicas start together', async () => {
    const keyPrefix = uniquePrefix();
    const replicas = await Promise.all([1, 2, 3].map(() => open(server, { keyPrefix }, { seed })));
    const outcomes = await Promise.all(replicas.map((replica) => replica.whenSeeded()));
    expect(outcomes.filter((outcome) => outcome?.applied)).toHaveLength(1);
  });

  it('comes from the settings\' seedFile through createStore', async () => {
    const workspace = new Workspace();
    try {
      const seedFile = workspace.write('seed.yaml', 'roleBindings:\n  - { subject: sam, roles: [support] }\n');
      const store = createStore(redisSettings({ url: server.url(), seedFile }));
      expect(store).toBeInstanceOf(RedisStore);
      stores.push(store as RedisStore);
      expect(await (store as RedisStore).whenSeeded()).toMatchObject({ applied: true });
      expect([...(await store.rolesFor('sam', 'orders'))]).toEqual(['support']);
      expect(store.kind).toBe('redis');
    } finally {
      workspace.remove();
    }
  });
});

describe('RedisStore secrets', () => {
  const password = 'pa$$w0rd-s3cret/42';

  it('connects with the password from passwordEnv', async () => {
    const own = await ownServer({ password });
    const store = await open(own, { passwordEnv: 'TEST_REDIS_PASSWORD' }, { environment: { env: { TEST_REDIS_PASSWORD: password }, readFile: () => Buffer.alloc(0) } });
    await store.grantRole({ subject: 'alice', role: 'x' });
    expect(store.health()).toMatchObject({ healthy: true });
    expect(store.health().detail).not.toContain(password);
  });

  it('works as a least-privilege ACL user: its keys, its channel, the commands it uses', async () => {
    const own = await ownServer();
    // The ACL the README documents (Redis 7.2+ also wants +client|setinfo, or ioredis skips it).
    const commands = 'smembers sscan zrange zrangebylex zrangebyscore hmget eval evalsha subscribe ping info client|setname select sadd srem exists zadd zrem del hset pexpireat zremrangebyscore time publish get set persist';
    await own.command('ACL', 'SETUSER', 'keycard', 'on', '>acl-secret', 'resetkeys', '~kc:*', 'resetchannels', '&kc:changes', '-@all', ...commands.split(' ').map((name) => `+${name}`));
    const store = await open(own, { url: `redis://keycard@127.0.0.1:${own.port}/0`, passwordEnv: 'PW', keyPrefix: 'kc:' }, {
      seed: { roleBindings: [{ subject: 'alice', role: 'customer' }] },
      environment: { env: { PW: 'acl-secret' }, readFile: () => Buffer.alloc(0) },
    });
    const heard = new ChangeRecorder(store);
    await heard.flush();
    expect(await store.whenSeeded()).toMatchObject({ applied: true });
    await store.grantRole({ subject: 'bob', role: 'x', service: 's' });
    await store.revokeRole({ subject: 'bob', role: 'x', service: 's' });
    await store.addTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
    await store.removeTuple({ object: 'doc:1', relation: 'viewer', subject: 'user:bob' });
    await store.revoke({ kind: 'subject', id: 'alice', before: 5, expiresAt: Math.floor(Date.now() / 1000) + 60 });
    expect([...(await store.rolesFor('alice', 's'))]).toEqual(['customer']);
    expect(await store.listRoleBindings()).toEqual([{ subject: 'alice', role: 'customer' }]);
    expect(await store.listTuples()).toEqual([]);
    expect(await store.subjectsOf('doc:1', 'viewer')).toEqual([]);
    expect(await store.revocationFor({ subject: 'alice', jti: 'j', sid: 's', issuedAt: 1 })).toMatchObject({ kind: 'subject' });
    expect(await store.listRevocations()).toHaveLength(1);
    const nowSeconds = Math.floor(Date.now() / 1000);
    await store.putApiKey({ id: 'k1', subject: 'svc', hash: 'aGFzaA', scopes: ['a'], createdAt: nowSeconds, expiresAt: nowSeconds + 60 });
    await store.putApiKey({ id: 'k2', subject: 'svc', hash: 'aGFzaA', scopes: [], createdAt: nowSeconds });
    expect(await store.apiKey('k1')).toBeDefined();
    expect(await store.listApiKeys('svc')).toHaveLength(2);
    expect(await store.deleteApiKey('k2')).toBe(true);
    await store.putSession({ id: 's1', subject: 'alice', createdAt: nowSeconds, lastSeenAt: nowSeconds, expiresAt: nowSeconds + 60 });
    await store.touchSession('s1', nowSeconds + 1);
    expect(await store.session('s1')).toMatchObject({ lastSeenAt: nowSeconds + 1 });
    expect(await store.listSessions()).toHaveLength(1);
    expect(await store.deleteSession('s1')).toBe(true);
    expect(store.health().healthy).toBe(true);
    expect(await own.command('ACL', 'LOG')).toEqual([]);
  });

  it('never shows a password from the URL in errors or health details', async () => {
    const own = await ownServer({ password });
    const wrong = `${password}-wrong`;
    const url = `redis://:${encodeURIComponent(wrong)}@127.0.0.1:${own.port}/0`;
    const store = new RedisStore({ settings: redisSettings({ url, connectTimeout: '300ms' }) });
    stores.push(store);
    const heard = new ChangeRecorder(store);
    await eventually(() => (store.health().detail ?? '').includes('WRONGPASS'), 5000, 'the authentication error being reported');
    const messages = [store.health().detail ?? ''];
    for (const operation of [() => store.rolesFor('a', 'b'), () => store.grantRole({ subject: 'a', role: 'b' }), () => store.listRevocations()]) {
      const [result] = await Promise.allSettled([operation()]);
      expect(result!.status).toBe('rejected');
      messages.push(String((result as PromiseRejectedResult).reason));
    }
    const all = messages.join('\n');
    expect(all).toContain('redis://:***@127.0.0.1');
    for (const secret of [wrong, encodeURIComponent(wrong), password, encodeURIComponent(password)]) expect(all).not.toContain(secret);
    expect(heard.seen).toEqual([]);
  });
});
