// Who or what a search could return, found by walking live state rather than by trying every
// id: relation tuples (transitively: group memberships, parent objects), role bindings of the
// service and the subject directory. Candidates are only candidates: each one is decided by the
// policy before it is returned (search.ts). The walk is bounded in store reads and candidates;
// past either bound the search returns what it found (and says so in page.properties). A failing
// store read is a store_unavailable deny (readStore), as in every other decision step.
import type { RoleBinding, StateStore } from '../state/store.js';
import { readStore } from '../state/store-read.js';
import { parseObjectRef } from '../state/tuple.js';

export interface WalkLimits {
  /** Store reads (tuple lookups) per walk at most. */
  readonly maxReads: number;
  /** Candidates collected per walk at most. */
  readonly maxCandidates: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxReads: 200, maxCandidates: 10_000 };

export interface Candidates {
  /** Sorted, unique: the order pages follow. */
  readonly ids: readonly string[];
  /** A bound cut the walk short: some candidates may be missing. */
  readonly truncated: boolean;
}

/**
 * Subjects of `subjectType` who may relate to `object` (`type:id`): subjects of tuples on the
 * object, members of usersets and of parent objects named there (breadth first), holders of a
 * role for the service (bindings for it or global ones) and the subjects of the directory.
 */
export async function subjectCandidates(store: StateStore, subjectType: string, object: string, service: string | undefined, limits: WalkLimits = DEFAULT_WALK_LIMITS): Promise<Candidates> {
  const found = new Set<string>();
  let truncated = false;
  const add = (id: string) => {
    if (found.size >= limits.maxCandidates) truncated = true;
    else found.add(id);
  };
  const seen = new Set<string>([object]);
  let queue: { object: string; relation?: string }[] = [{ object }];
  let reads = 0;
  while (queue.length > 0) {
    const next: typeof queue = [];
    for (const step of queue) {
      if (reads >= limits.maxReads) {
        truncated = true;
        break;
      }
      reads++;
      const filter = step.relation === undefined ? { object: step.object } : { object: step.object, relation: step.relation };
      const tuples = await readStore(store, () => store.listTuples(filter));
      for (const tuple of tuples) {
        const hash = tuple.subject.indexOf('#');
        const ref = parseObjectRef(hash < 0 ? tuple.subject : tuple.subject.slice(0, hash), 'subject');
        if (!ref.ok) continue;
        if (hash < 0 && ref.value.type === subjectType) {
          add(ref.value.id);
          continue;
        }
        // A userset (group:eng#member) or another object (a parent): its own subjects count too.
        const key = tuple.subject;
        if (seen.has(key)) continue;
        seen.add(key);
        next.push(hash < 0 ? { object: tuple.subject } : { object: tuple.subject.slice(0, hash), relation: tuple.subject.slice(hash + 1) });
      }
    }
    queue = next;
  }
  const bindings: readonly RoleBinding[] = await readStore(store, () => store.listRoleBindings());
  for (const binding of bindings) if (binding.service === undefined || binding.service === service) add(binding.subject);
  let cursor: string | undefined;
  do {
    const options = { ...(cursor !== undefined && { cursor }), limit: 500 };
    const page = await readStore(store, () => store.listSubjects(options));
    for (const subject of page.subjects) add(subject.id);
    cursor = page.next;
  } while (cursor !== undefined && !truncated);
  return { ids: [...found].sort(), truncated };
}

/**
 * Ids of objects of `resourceType` the subject (`type:id`) is related to, directly or through
 * usersets it belongs to and objects those relate to (breadth first over tuples by subject).
 */
export async function resourceCandidates(store: StateStore, subject: string, resourceType: string, limits: WalkLimits = DEFAULT_WALK_LIMITS): Promise<Candidates> {
  const found = new Set<string>();
  let truncated = false;
  const seen = new Set<string>([subject]);
  let queue = [subject];
  let reads = 0;
  while (queue.length > 0) {
    const next: string[] = [];
    for (const current of queue) {
      if (reads >= limits.maxReads) {
        truncated = true;
        break;
      }
      reads++;
      for (const tuple of await readStore(store, () => store.listTuples({ subject: current }))) {
        const ref = parseObjectRef(tuple.object);
        if (!ref.ok) continue;
        if (ref.value.type === resourceType) {
          if (found.size >= limits.maxCandidates) truncated = true;
          else found.add(ref.value.id);
        }
        // What relates to this object, or to this userset of it, relates the subject too.
        for (const onward of [tuple.object, `${tuple.object}#${tuple.relation}`]) {
          if (seen.has(onward)) continue;
          seen.add(onward);
          next.push(onward);
        }
      }
    }
    queue = next;
  }
  return { ids: [...found].sort(), truncated };
}

/** The candidates after the page token's position (ids are sorted, so this is a binary search). */
export function after(ids: readonly string[], position: string | undefined): readonly string[] {
  if (position === undefined) return ids;
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ids[mid]! <= position) low = mid + 1;
    else high = mid;
  }
  return ids.slice(low);
}
