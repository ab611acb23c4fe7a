// The Redis store's parts that need no server: the connection options built for a URL, Sentinel
// and Cluster, the key layout and member encodings, change messages, and error messages.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseChangeMessage, changeMessage } from '../../src/state/redis/change-feed.js';
import type { RedisOptions } from 'ioredis';
import { planConnection, reconnectDelay, type ConnectionPlan, type PlanEnvironment } from '../../src/state/redis/client.js';
import { Redactor, storeFailure, type FailureContext } from '../../src/state/redis/errors.js';
import { objectMember, parseRevocationMember, parseRoleMember, redisKeys, relationRange, roleMember, splitAtHash, subjectMember } from '../../src/state/redis/keys.js';
import { seedDigest } from '../../src/state/redis/seed.js';
import { redisSettings } from '../helpers/redis-store.js';

const files: Record<string, string> = { '/tls/ca.pem': 'CA', '/tls/client.pem': 'CERT', '/tls/client.key': 'KEY' };
const environment = (env: Record<string, string> = {}): PlanEnvironment => ({
  env,
  readFile: (path) => {
    const content = files[path];
    if (content === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return Buffer.from(content);
  },
});

/** The options of a standalone or Sentinel plan. */
function single(plan: ConnectionPlan): RedisOptions {
  if (plan.mode === 'cluster') throw new Error('expected a standalone or sentinel plan');
  return plan.options;
}

describe('connection plan', () => {
  it('connects to a URL so that no command waits: no offline queue, no retries, timeouts, reconnecting forever', () => {
    const plan = planConnection(redisSettings({ url: 'redis://keycard:s3cret@redis.internal:6380/3', keyPrefix: 'kc:' }), environment());
    expect(plan.mode).toBe('standalone');
    expect(plan.target).toBe('redis://keycard:***@redis.internal:6380/3');
    expect(plan.secrets).toEqual(['s3cret']);
    expect(plan.options).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      db: 3,
      username: 'keycard',
      password: 's3cret',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: 250,
      connectTimeout: 1000,
    });
    const options = single(plan);
    expect(options.tls).toBeUndefined();
    expect(typeof options.retryStrategy!(1)).toBe('number');
    expect(options.reconnectOnError!(new Error('READONLY You can\'t write against a read only replica.'))).toBe(true);
    expect(options.reconnectOnError!(new Error('WRONGTYPE'))).toBe(false);
  });

  it('backs off from 50 ms to at most about a second', () => {
    for (let attempt = 1; attempt < 40; attempt++) {
      const delay = reconnectDelay(attempt);
      expect(delay).toBeGreaterThanOrEqual(Math.min(1000, 50 * 2 ** (attempt - 1)));
      expect(delay).toBeLessThan(1050);
    }
  });

  it('uses TLS for rediss://, with the configured CA, client certificate and server name', () => {
    const plan = planConnection(
      redisSettings({ url: 'rediss://10.0.0.5:6380', tls: { caFile: '/tls/ca.pem', certFile: '/tls/client.pem', keyFile: '/tls/client.key', servername: 'redis.internal' }, passwordEnv: 'PW' }),
      environment({ PW: 'from-env' }),
    );
    expect(single(plan).tls).toEqual({ ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), servername: 'redis.internal' });
    expect(plan.options).toMatchObject({ host: '10.0.0.5', port: 6380, db: 0, password: 'from-env' });
    expect(single(planConnection(redisSettings({ url: 'rediss://redis.internal' }), environment())).tls).toEqual({});
  });

  it('says which environment variable or TLS file is missing, without any secret', () => {
    const missing = (() => {
      try {
        planConnection(redisSettings({ url: 'redis://redis.internal', passwordEnv: 'KEYCARD_REDIS_PASSWORD' }), environment());
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toBe('store settings [invalid_value] store.passwordEnv: the environment variable KEYCARD_REDIS_PASSWORD is not set (or empty)');
    expect(() => planConnection(redisSettings({ url: 'rediss://r', tls: { caFile: '/tls/missing.pem' } }), environment())).toThrow(
      "/tls/missing.pem [file_unreadable] store.tls.caFile: ENOENT: no such file or directory, open '/tls/missing.pem'",
    );
  });

  it('asks Sentinel for the master, with the sentinel password and TLS for sentinels too', () => {
    const plan = planConnection(
      redisSettings({
        sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }],
        name: 'main',
        passwordEnv: 'PW',
        sentinelPasswordEnv: 'SPW',
        tls: { caFile: '/tls/ca.pem' },
        commandTimeout: '100ms',
      }),
      environment({ PW: 'master-secret', SPW: 'sentinel-secret' }),
    );
    expect(plan.mode).toBe('sentinel');
    expect(plan.target).toBe('sentinel master "main" via s1:26379, s2:26380');
    expect(plan.secrets).toEqual(['master-secret', 'sentinel-secret']);
    expect(plan.options).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }],
      name: 'main',
      role: 'master',
      password: 'master-secret',
      sentinelPassword: 'sentinel-secret',
      tls: { ca: Buffer.from('CA') },
      enableTLSForSentinelMode: true,
      sentinelTLS: { ca: Buffer.from('CA') },
      failoverDetector: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 100,
      sentinelCommandTimeout: 100,
    });
    expect(single(plan).host).toBeUndefined();
  });

  it('connects to a cluster through its seed nodes, every node connection bounded the same way', () => {
    const plan = planConnection(redisSettings({ cluster: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], username: 'kc', passwordEnv: 'PW' }), environment({ PW: 'p' }));
    if (plan.mode !== 'cluster') throw new Error('expected a cluster plan');
    expect(plan.target).toBe('cluster via n1:7000, n2:7001');
    expect(plan.nodes).toEqual([{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }]);
    expect(plan.options).toMatchObject({ enableOfflineQueue: false, scaleReads: 'master', maxRedirections: 3 });
    expect(plan.options.redisOptions).toMatchObject({ username: 'kc', password: 'p', maxRetriesPerRequest: 0, commandTimeout: 250, connectTimeout: 1000 });
    expect(plan.nodeOptions).toMatchObject({ username: 'kc', password: 'p', enableOfflineQueue: false });
  });
});

describe('key layout', () => {
  it('puts every key under the prefix and one hash tag, the channel under the prefix', () => {
    const keys = redisKeys('keycard:');
    for (const key of [keys.roles('alice'), keys.roleSubjects, keys.objectTuples('order:42'), keys.subjectTuples('user:alice'), keys.tupleObjects, keys.revocation('token', 'j'), keys.revocations, keys.seeded]) {
      expect(key.startsWith('keycard:{kc}:')).toBe(true);
    }
    expect(keys.roles('alice')).toBe('keycard:{kc}:roles:alice');
    expect(keys.channel).toBe('keycard:changes');
  });

  it('encodes members so that they decode unambiguously', () => {
    expect(roleMember({ role: 'admin' })).toBe('["","admin"]');
    expect(parseRoleMember('alice', roleMember({ role: 'a"b', service: 'orders' }))).toEqual({ subject: 'alice', role: 'a"b', service: 'orders' });
    expect(parseRoleMember('alice', roleMember({ role: 'admin', service: '' }))).toEqual({ subject: 'alice', role: 'admin' });
    expect(parseRoleMember('alice', 'garbage')).toBeUndefined();
    const tuple = { object: 'doc:a:b', relation: 'viewer', subject: 'group:eng#member' };
    expect(splitAtHash(objectMember(tuple))).toEqual(['viewer', 'group:eng#member']);
    expect(splitAtHash(subjectMember(tuple))).toEqual(['doc:a:b', 'viewer']);
    expect(relationRange('owner')).toEqual(['[owner#', '(owner$']);
    expect(parseRevocationMember('subject:user:alice')).toEqual({ kind: 'subject', id: 'user:alice' });
    expect(parseRevocationMember('other:x')).toBeUndefined();
  });

  it('digests a seed independently of its order', () => {
    const a = { roleBindings: [{ subject: 'a', role: 'x' }, { subject: 'b', role: 'y', service: 's' }], tuples: [{ object: 'o:1', relation: 'r', subject: 'u:1' }] };
    const b = { roleBindings: [...a.roleBindings].reverse(), tuples: a.tuples };
    expect(seedDigest(a)).toBe(seedDigest(b));
    expect(seedDigest(a)).not.toBe(seedDigest({ roleBindings: a.roleBindings }));
  });
});

describe('change messages', () => {
  it('carry the origin and the change', () => {
    const change = { kind: 'revocation', revocation: { kind: 'subject', id: 'alice', before: 10, expiresAt: 20 } } as const;
    expect(parseChangeMessage(changeMessage('me', change))).toEqual({ origin: 'me', change });
  });

  it('turn into a flush when they cannot be read', () => {
    for (const text of ['', 'not json', '{}', '{"origin":"x","change":{"kind":"roles"}}', '{"origin":"x","change":{"kind":"nope"}}']) {
      expect(parseChangeMessage(text)).toEqual({ change: { kind: 'flush' } });
    }
  });
});

describe('error messages', () => {
  const context: FailureContext = {
    keyPrefix: 'keycard:',
    commandTimeoutMs: 250,
    connection: () => 'reconnecting; last error: connect ECONNREFUSED 127.0.0.1:7001',
    redactor: new Redactor(['pa$$/word']),
  };

  it.each([
    ["Stream isn't writeable and enableOfflineQueue options is false", 'Redis rolesFor failed: not connected to Redis (reconnecting; last error: connect ECONNREFUSED 127.0.0.1:7001)'],
    ["Cluster isn't ready and enableOfflineQueue options is false", 'Redis rolesFor failed: not connected to Redis (reconnecting; last error: connect ECONNREFUSED 127.0.0.1:7001)'],
    ['Command timed out', 'Redis rolesFor failed: Redis did not answer within 250ms'],
    ['Connection is closed.', 'Redis rolesFor failed: the connection to Redis was lost before it answered (reconnecting; last error: connect ECONNREFUSED 127.0.0.1:7001)'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'Redis rolesFor failed: WRONGTYPE Operation against a key holding the wrong kind of value — a key under "keycard:" holds data keycard did not write (does another application use this keyPrefix?)'],
    ['NOPERM this user has no permissions to run the \'evalsha\' command', "Redis rolesFor failed: NOPERM this user has no permissions to run the 'evalsha' command (check store.username, the password and the user's ACL)"],
  ])('explain %s', (message, expected) => {
    expect(storeFailure('rolesFor', new Error(message), context).message).toBe(expected);
  });

  it('never carry a secret, plain or URL-encoded', () => {
    const message = storeFailure('grantRole', new Error('auth pa$$/word failed for redis://:pa%24%24%2Fword@h'), context).message;
    expect(message).toBe('Redis grantRole failed: auth *** failed for redis://:***@h');
  });
});
