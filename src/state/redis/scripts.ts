// The Lua scripts behind every write. Each updates a value, its indexes and publishes the change in
// one atomic step (all keys share the {kc} hash slot, see keys.ts), so a replica never sees half a
// write and no change is written without its message. Scripts are sent by SHA (EVALSHA) and loaded
// with EVAL the first time a server answers NOSCRIPT.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function script(name: string, lua: string): LuaScript {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** KEYS: roles:<subject>, roles. ARGV: member, subject, channel, message. Returns 1 when added. */
export const GRANT_ROLE = script(
  'grantRole',
  `local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if added == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return added`,
);

/** KEYS: roles:<subject>, roles. ARGV: member, subject, channel, message. Returns 1 when removed. */
export const REVOKE_ROLE = script(
  'revokeRole',
  `local removed = redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
if removed == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return removed`,
);

/** KEYS: obj:<object>, subj:<subject>, objects. ARGV: object member, subject member, object, channel, message. */
export const ADD_TUPLE = script(
  'addTuple',
  `local added = redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
if added == 1 then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return added`,
);

/** KEYS: obj:<object>, subj:<subject>, objects. ARGV: object member, subject member, object, channel, message. */
export const REMOVE_TUPLE = script(
  'removeTuple',
  `local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[3]) end
if removed == 1 then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return removed`,
);

/**
 * KEYS: revoked:<kind>:<id>, revocations. ARGV: index member, expiresAt, before ('' for none),
 * channel, message. Merges with an existing entry like mergeRevocations: the latest expiry, and
 * the latest `before` (none, i.e. every token, when either has none). The entry expires at
 * expiresAt; index entries that have expired are pruned. Returns the stored expiresAt and before.
 */
export const REVOKE = script(
  'revoke',
  `local expiresAt, before = ARGV[2], ARGV[3]
local current = redis.call('HMGET', KEYS[1], 'expiresAt', 'before')
if current[1] then
  if tonumber(current[1]) > tonumber(expiresAt) then expiresAt = current[1] end
  if (not current[2]) or before == '' then before = ''
  elseif tonumber(current[2]) > tonumber(before) then before = current[2] end
end
redis.call('DEL', KEYS[1])
if before == '' then
  redis.call('HSET', KEYS[1], 'expiresAt', expiresAt)
else
  redis.call('HSET', KEYS[1], 'expiresAt', expiresAt, 'before', before)
end
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(expiresAt) * 1000))
redis.call('ZADD', KEYS[2], expiresAt, ARGV[1])
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {expiresAt, before}`,
);

/**
 * Stores an API key or a session. KEYS: the record, the index, the subject's index. ARGV: id, drop
 * time (seconds, or 'inf'), channel, message, then the record's field/value pairs. The record
 * replaces any earlier one and expires at the drop time; both indexes are pruned of members past
 * theirs, and the subject's index lives as long as its longest-lived member. Returns 1.
 */
export const PUT_RECORD = script(
  'putRecord',
  `local id, drop = ARGV[1], ARGV[2]
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if drop == 'inf' then drop = '+inf' else redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(drop) * 1000)) end
local now = redis.call('TIME')
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], drop, id)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now[1])
end
local top = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if top[2] == 'inf' then redis.call('PERSIST', KEYS[3])
elseif top[2] then redis.call('PEXPIREAT', KEYS[3], math.ceil(tonumber(top[2]) * 1000)) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
);

/**
 * Deletes an API key or a session. KEYS: the record, the index and, when known, the subject's
 * index. ARGV: id, channel, message. Publishes only when there was a record. Returns 1 when deleted.
 */
export const DELETE_RECORD = script(
  'deleteRecord',
  `local deleted = redis.call('DEL', KEYS[1])
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
if deleted == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return deleted`,
);

/**
 * Moves a session's lastSeenAt forward. KEYS: the session. ARGV: lastSeenAt, channel, message.
 * Nothing when the session is gone or was seen later already. Returns 1 when updated.
 */
export const TOUCH_SESSION = script(
  'touchSession',
  `local current = redis.call('HMGET', KEYS[1], 'lastSeenAt')[1]
if (not current) or tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`,
);

/** Stores a subject record. KEYS: subject:<id>, subjects. ARGV: id, JSON, channel, message. Returns 1. */
export const PUT_SUBJECT = script(
  'putSubject',
  `redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
);

/** Deletes a subject record. KEYS: subject:<id>, subjects. ARGV: id, channel, message. Returns 1 when deleted. */
export const DELETE_SUBJECT = script(
  'deleteSubject',
  `local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if deleted == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return deleted`,
);

/**
 * Applies a seed once. KEYS: seeded, roles, objects, subjects, then one key per binding
 * (roles:<subject>), two per tuple (obj:, subj:), one per subject record (subject:<id>). ARGV:
 * marker value, channel, message, binding count, tuple count, subject count, then per binding:
 * subject, member; per tuple: object, object member, subject member; per subject record: id, JSON.
 * Returns the existing marker when the store was seeded before (nothing written), else false.
 */
export const SEED = script(
  'seed',
  `local existing = redis.call('GET', KEYS[1])
if existing then return existing end
local bindings, tuples, subjects = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local k, a = 5, 7
for _ = 1, bindings do
  redis.call('SADD', KEYS[k], ARGV[a + 1])
  redis.call('SADD', KEYS[2], ARGV[a])
  k, a = k + 1, a + 2
end
for _ = 1, tuples do
  redis.call('ZADD', KEYS[k], 0, ARGV[a + 1])
  redis.call('ZADD', KEYS[k + 1], 0, ARGV[a + 2])
  redis.call('SADD', KEYS[3], ARGV[a])
  k, a = k + 2, a + 3
end
for _ = 1, subjects do
  redis.call('SET', KEYS[k], ARGV[a + 1])
  redis.call('ZADD', KEYS[4], 0, ARGV[a])
  k, a = k + 1, a + 2
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return false`,
);

/** Runs a script by SHA, loading it when the server does not know it (after a restart or failover). */
export async function runScript(client: Redis | Cluster, lua: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(lua.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(lua.lua, keys.length, ...keys, ...args);
  }
}
