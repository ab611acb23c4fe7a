// Key layout of the Redis store. Every key starts with the configured keyPrefix (default
// "keycard:") followed by the hash tag "{kc}", so all of a store's keys hash to one Redis Cluster
// slot. That lets every write update a value and its indexes atomically in one Lua script, in
// standalone, Sentinel and Cluster mode alike. The cost: in Cluster mode one store lives on one
// shard (Cluster gives it failover, not sharding); keycard's state is small and read through a cache.
//
//   P{kc}:roles:<subject>    SET     the subject's role bindings, member JSON ["<service or ''>","<role>"]
//   P{kc}:roles              SET     subjects with at least one binding (for listing)
//   P{kc}:obj:<object>       ZSET    tuples of the object, score 0, member "<relation>#<subject>";
//                                    subjectsOf is a ZRANGE BYLEX over "<relation>#"
//   P{kc}:subj:<subject>     ZSET    the same tuples by subject, member "<object>#<relation>"
//   P{kc}:objects            SET     objects with at least one tuple (for listing)
//   P{kc}:revoked:<kind>:<id> HASH   { expiresAt, before? } with PEXPIREAT at expiresAt: it vanishes
//                                    on its own once no token it could match is still valid
//   P{kc}:revocations        ZSET    member "<kind>:<id>", score expiresAt (listing; pruned as it goes)
//   P{kc}:apikey:<id>        HASH    an API key (records.ts: subject, hash, scopes, name, createdAt,
//                                    expiresAt) with PEXPIREAT at expiresAt + retention, if it expires
//   P{kc}:apikeys            ZSET    member <id>, score the drop time (+inf: never) for listing
//   P{kc}:apikeys-of:<subject> ZSET  the same for one subject; expires with its longest-lived member
//   P{kc}:session:<id>       HASH    a session by the hash of its cookie value (subject, createdAt,
//                                    lastSeenAt, expiresAt, claims), PEXPIREAT at expiresAt + retention
//   P{kc}:sessions           ZSET    member <id>, score the drop time (listing; pruned as it goes)
//   P{kc}:sessions-of:<subject> ZSET the same for one subject; expires with its longest-lived member
//   P{kc}:subject:<id>       STRING  a subject directory record: its properties as JSON
//   P{kc}:subjects           ZSET    member <id>, score 0 (listing in id order, ZRANGE BYLEX)
//   P{kc}:seeded             STRING  JSON { at, sha256 } once the seed file has been applied
//   channel P + "changes"            JSON { origin, change } after every write (PUBLISH is cluster-wide)
//
// Object ids never contain "#" and relation names are [a-z0-9_], so "<relation>#<subject>" and
// "<object>#<relation>" split unambiguously at their first "#".
import type { RelationTuple, Revocation, RoleBinding } from '../store.js';

export const HASH_TAG = '{kc}';

export interface RedisKeys {
  readonly prefix: string;
  roles(subject: string): string;
  readonly roleSubjects: string;
  objectTuples(object: string): string;
  subjectTuples(subject: string): string;
  readonly tupleObjects: string;
  revocation(kind: Revocation['kind'], id: string): string;
  readonly revocations: string;
  apiKey(id: string): string;
  readonly apiKeys: string;
  subjectApiKeys(subject: string): string;
  session(id: string): string;
  readonly sessions: string;
  subjectSessions(subject: string): string;
  subject(id: string): string;
  readonly subjects: string;
  readonly seeded: string;
  readonly channel: string;
}

export function redisKeys(prefix: string): RedisKeys {
  const base = `${prefix}${HASH_TAG}:`;
  return {
    prefix,
    roles: (subject) => `${base}roles:${subject}`,
    roleSubjects: `${base}roles`,
    objectTuples: (object) => `${base}obj:${object}`,
    subjectTuples: (subject) => `${base}subj:${subject}`,
    tupleObjects: `${base}objects`,
    revocation: (kind, id) => `${base}revoked:${kind}:${id}`,
    revocations: `${base}revocations`,
    apiKey: (id) => `${base}apikey:${id}`,
    apiKeys: `${base}apikeys`,
    subjectApiKeys: (subject) => `${base}apikeys-of:${subject}`,
    session: (id) => `${base}session:${id}`,
    sessions: `${base}sessions`,
    subjectSessions: (subject) => `${base}sessions-of:${subject}`,
    subject: (id) => `${base}subject:${id}`,
    subjects: `${base}subjects`,
    seeded: `${base}seeded`,
    channel: `${prefix}changes`,
  };
}

/** A role binding as a member of its subject's set; `''` is the global service. */
export function roleMember({ role, service }: Pick<RoleBinding, 'role' | 'service'>): string {
  return JSON.stringify([service ?? '', role]);
}

export function parseRoleMember(subject: string, member: string): RoleBinding | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(member);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return undefined;
  const [service, role] = parsed as [string, string];
  return service === '' ? { subject, role } : { subject, role, service };
}

/** The member of the object's set: `relation#subject`. */
export function objectMember(tuple: RelationTuple): string {
  return `${tuple.relation}#${tuple.subject}`;
}

/** The member of the subject's set: `object#relation`. */
export function subjectMember(tuple: RelationTuple): string {
  return `${tuple.object}#${tuple.relation}`;
}

/** ZRANGE BYLEX bounds selecting the members `relation#…`: "#" is followed by "$" in ASCII. */
export function relationRange(relation: string): [string, string] {
  return [`[${relation}#`, `(${relation}$`];
}

export function splitAtHash(member: string): [string, string] | undefined {
  const hash = member.indexOf('#');
  return hash < 0 ? undefined : [member.slice(0, hash), member.slice(hash + 1)];
}

/** The revocation index member `kind:id`. */
export function revocationMember(kind: Revocation['kind'], id: string): string {
  return `${kind}:${id}`;
}

export function parseRevocationMember(member: string): { kind: Revocation['kind']; id: string } | undefined {
  const colon = member.indexOf(':');
  const kind = member.slice(0, colon);
  if (colon < 0 || (kind !== 'token' && kind !== 'subject' && kind !== 'session')) return undefined;
  return { kind, id: member.slice(colon + 1) };
}
