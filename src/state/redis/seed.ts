// Seeding the Redis store from the seed file. The seed is a bootstrap, not the source of truth:
// it is applied (role bindings and tuples added, nothing removed) only to a store that has never
// been seeded, and the marker key `P{kc}:seeded` then records when and which seed (its SHA-256).
// Later starts, by any replica, leave the store alone, so a restart never undoes live changes
// (a role revoked at run time stays revoked). Check and write happen in one Lua script, so two
// replicas starting together seed once. To seed again, delete the marker key.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Seed } from '../seed-file.js';
import { checkSubjectRecord } from '../subject-records.js';
import { formatTuple, tupleProblem } from '../tuple.js';
import { changeMessage } from './change-feed.js';
import { objectMember, roleMember, subjectMember, type RedisKeys } from './keys.js';
import { SEED } from './scripts.js';

export interface SeedMarker {
  /** When the seed was applied (ISO 8601). */
  readonly at: string;
  readonly sha256: string;
}

export type SeedOutcome =
  | { readonly applied: true; readonly marker: SeedMarker }
  /** The store had been seeded before; `sameSeed` says whether with the same content. */
  | { readonly applied: false; readonly marker: SeedMarker | undefined; readonly sameSeed: boolean };

/**
 * The seed's content hash: the same bindings, tuples and subjects in any order hash alike. A seed
 * without subjects hashes as it did before the subject directory existed, so stores seeded then
 * still recognize their seed.
 */
export function seedDigest(seed: Seed): string {
  const bindings = seed.roleBindings.map((binding) => JSON.stringify([binding.subject, binding.service ?? '', binding.role])).sort();
  const tuples = (seed.tuples ?? []).map(formatTuple).sort();
  const subjects = (seed.subjects ?? []).map(({ id, properties }) => JSON.stringify([id, properties])).sort();
  return createHash('sha256').update(JSON.stringify({ bindings, tuples, ...(subjects.length > 0 && { subjects }) })).digest('hex');
}

export async function applySeedOnce(client: Redis | Cluster, keys: RedisKeys, seed: Seed, origin: string, now: () => number = Date.now): Promise<SeedOutcome> {
  const tuples = seed.tuples ?? [];
  for (const tuple of tuples) {
    const problem = tupleProblem(tuple);
    if (problem !== undefined) throw new TypeError(`invalid relation tuple in the seed: ${problem}`);
  }
  const sha256 = seedDigest(seed);
  const marker: SeedMarker = { at: new Date(now()).toISOString(), sha256 };
  const subjects = seed.subjects ?? [];
  for (const { id, properties } of subjects) checkSubjectRecord(id, properties);
  const scriptKeys = [keys.seeded, keys.roleSubjects, keys.tupleObjects, keys.subjects];
  const args: string[] = [
    JSON.stringify(marker),
    keys.channel,
    changeMessage(origin, { kind: 'flush' }),
    String(seed.roleBindings.length),
    String(tuples.length),
    String(subjects.length),
  ];
  for (const binding of seed.roleBindings) {
    scriptKeys.push(keys.roles(binding.subject));
    args.push(binding.subject, roleMember(binding));
  }
  for (const tuple of tuples) {
    scriptKeys.push(keys.objectTuples(tuple.object), keys.subjectTuples(tuple.subject));
    args.push(tuple.object, objectMember(tuple), subjectMember(tuple));
  }
  for (const { id, properties } of subjects) {
    scriptKeys.push(keys.subject(id));
    args.push(id, JSON.stringify(properties));
  }
  // EVAL, not EVALSHA: one round trip, so a write sent right after the connection is ready lands
  // after the seed (it could otherwise slip in between NOSCRIPT and the EVAL and be undone).
  const existing = await client.eval(SEED.lua, scriptKeys.length, ...scriptKeys, ...args);
  if (existing === null || existing === undefined) return { applied: true, marker };
  const previous = parseMarker(String(existing));
  return { applied: false, marker: previous, sameSeed: previous?.sha256 === sha256 };
}

function parseMarker(text: string): SeedMarker | undefined {
  try {
    const value = JSON.parse(text) as Partial<SeedMarker>;
    return typeof value.at === 'string' && typeof value.sha256 === 'string' ? { at: value.at, sha256: value.sha256 } : undefined;
  } catch {
    return undefined;
  }
}
