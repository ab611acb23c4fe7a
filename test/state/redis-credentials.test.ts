// What only the Redis store does with API keys and sessions: keys that expire in Redis (record and
// subject index), replicas hearing each other's changes, and records it cannot read back whole
// treated as absent rather than misread.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from '../../src/state/redis/redis-store.js';
import { EXPIRED_RECORD_RETENTION_SECONDS, type ApiKeyRecord, type SessionRecord } from '../../src/state/store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ChangeRecorder, openRedisStore, uniquePrefix } from '../helpers/redis-store.js';

let server: RedisServer;
const stores: RedisStore[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  await server?.remove();
});

async function open(fields: Record<string, unknown> = {}): Promise<RedisStore> {
  const store = await openRedisStore(server, fields);
  stores.push(store);
  return store;
}

const now = () => Math.floor(Date.now() / 1000);
const pttl = async (key: string) => Number(await server.command('PTTL', key));
const key = (id: string, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({ id, subject: 'svc:ci', hash: 'aGFzaA', scopes: ['a'], createdAt: now(), ...extra });
const session = (id: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({ id, subject: 'alice', createdAt: now(), lastSeenAt: now(), expiresAt: now() + 600, ...extra });

describe('RedisStore API keys and sessions in Redis', () => {
  it('expire at their expiry plus the retention; a key without expiry never does', async () => {
    const store = await open();
    const retentionMs = EXPIRED_RECORD_RETENTION_SECONDS * 1000;
    await store.putApiKey(key('expiring', { expiresAt: now() + 100 }));
    await store.putApiKey(key('forever'));
    await store.putSession(session('s1', { expiresAt: now() + 200 }));
    const expiring = await pttl(store.keys.apiKey('expiring'));
    expect(expiring).toBeGreaterThan(retentionMs + 95_000);
    expect(expiring).toBeLessThanOrEqual(retentionMs + 100_000);
    expect(await pttl(store.keys.apiKey('forever'))).toBe(-1);
    const sessionTtl = await pttl(store.keys.session('s1'));
    expect(sessionTtl).toBeGreaterThan(retentionMs + 195_000);
    expect(sessionTtl).toBeLessThanOrEqual(retentionMs + 200_000);
    // A touch keeps the record's expiry.
    await store.touchSession('s1', now() + 1);
    expect(Math.abs((await pttl(store.keys.session('s1'))) - sessionTtl)).toBeLessThan(5000);
  });

  it('keeps a subject index as long as its longest-lived member, and for ever with a key that never expires', async () => {
    const store = await open();
    await store.putSession(session('s1', { expiresAt: now() + 100 }));
    await store.putSession(session('s2', { expiresAt: now() + 300 }));
    const index = store.keys.subjectSessions('alice');
    expect(await pttl(index)).toBeGreaterThan((EXPIRED_RECORD_RETENTION_SECONDS + 295) * 1000);
    await store.putApiKey(key('k1', { expiresAt: now() + 100 }));
    expect(await pttl(store.keys.subjectApiKeys('svc:ci'))).toBeGreaterThan(0);
    await store.putApiKey(key('k2'));
    expect(await pttl(store.keys.subjectApiKeys('svc:ci'))).toBe(-1);
    // Deleting removes the id from both indexes.
    await store.deleteApiKey('k2');
    expect(await server.command('ZRANGE', store.keys.subjectApiKeys('svc:ci'), 0, -1)).toEqual(['k1']);
    expect(await server.command('ZRANGE', store.keys.apiKeys, 0, -1)).toEqual(['k1']);
  });

  it('replicas hear each other\'s key and session changes, each once', async () => {
    const keyPrefix = uniquePrefix();
    const a = await open({ keyPrefix });
    const b = await open({ keyPrefix });
    const heardByB = new ChangeRecorder(b);
    await heardByB.flush();
    // Wait from before the write: the change can arrive before putApiKey's reply does.
    const heard = heardByB.next((change) => change.kind !== 'flush');
    await a.putApiKey(key('k1'));
    expect(await heard).toEqual({ kind: 'apiKey', id: 'k1' });
    expect(await b.apiKey('k1')).toEqual(key('k1', { createdAt: (await a.apiKey('k1'))!.createdAt }));
    await a.putSession(session('s1'));
    await a.touchSession('s1', now() + 10);
    await a.deleteSession('s1');
    await a.deleteSession('s1');
    await a.deleteApiKey('k1');
    const marker = heardByB.next((change) => change.kind === 'roles');
    await a.grantRole({ subject: 'marker', role: 'm' });
    await marker;
    expect(heardByB.seen.filter((change) => change.kind !== 'flush')).toEqual([
      { kind: 'apiKey', id: 'k1' },
      { kind: 'session', id: 's1' },
      { kind: 'session', id: 's1' },
      { kind: 'session', id: 's1' },
      { kind: 'apiKey', id: 'k1' },
      { kind: 'roles', subject: 'marker' },
    ]);
  });

  it('treats a record it cannot read back whole as absent', async () => {
    const store = await open();
    await server.command('HSET', store.keys.apiKey('broken1'), 'subject', 'x', 'hash', 'aGFzaA', 'scopes', 'not json', 'createdAt', '1');
    await server.command('HSET', store.keys.apiKey('broken2'), 'subject', 'x', 'hash', 'aGFzaA', 'scopes', '[]', 'createdAt', '1', 'expiresAt', 'soon');
    await server.command('HSET', store.keys.session('broken3'), 'subject', 'x', 'createdAt', '1', 'lastSeenAt', '1');
    await server.command('HSET', store.keys.session('broken4'), 'subject', 'x', 'createdAt', '1', 'lastSeenAt', '1', 'expiresAt', String(now() + 60), 'claims', '{"amr":"pwd"}');
    expect(await store.apiKey('broken1')).toBeUndefined();
    expect(await store.apiKey('broken2')).toBeUndefined();
    expect(await store.session('broken3')).toBeUndefined();
    expect(await store.session('broken4')).toBeUndefined();
  });
});
