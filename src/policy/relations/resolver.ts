// Answers "does SUBJECT have RELATION on OBJECT?" from the tuples in the store and the relation
// schema: direct tuples, userset subjects (`group:eng#member`, recursively), computed usersets
// (`viewer: [owner]`) and tuple-to-userset (`manager: ["shop->owner"]`).
//
// Bounded: a chain longer than maxDepth is not followed, a check makes at most maxReads store
// reads and 4 × maxReads userset visits (past either it fails closed), and a userset already on
// the current path is not entered again, so cycles end. A grant returns the chain of usersets that granted it, from the
// subject to the asked relation: ["user:alice", "group:eng#member", "doc:1#viewer"].
import { DenyError } from '../../errors.js';
import type { ReadOptions, StateStore } from '../../state/store.js';
import { parseObjectRef, parseSubjectRef } from '../../state/tuple.js';
import type { RelationAnswer, RelationChecker } from '../conditions/types.js';
import type { RelationSchema, Rewrite } from './schema.js';
import { readStore } from '../../state/store-read.js';

/** Userset visits per check per allowed read: dense graphs full of cycles stay cheap. */
const VISITS_PER_READ = 4;

export class RelationResolver implements RelationChecker {
  constructor(
    private readonly store: Pick<StateStore, 'kind' | 'subjectsOf'>,
    private readonly schema: RelationSchema,
  ) {}

  async check(object: string, relation: string, subject: string, options?: ReadOptions): Promise<RelationAnswer> {
    const objectRef = parseObjectRef(object);
    if (!objectRef.ok) return { ok: false, detail: objectRef.problem };
    const subjectRef = parseSubjectRef(subject);
    if (!subjectRef.ok) return { ok: false, detail: subjectRef.problem };
    if (subjectRef.value.relation !== undefined && !this.schema.hasRelation(subjectRef.value.type, subjectRef.value.relation)) {
      return { ok: false, detail: `subject relation "${subjectRef.value.type}#${subjectRef.value.relation}" is not declared` };
    }
    if (!this.schema.hasRelation(objectRef.value.type, relation)) {
      return { ok: false, detail: `relation "${objectRef.value.type}#${relation}" is not declared` };
    }
    const search = new Search(this.store, this.schema, subject, options);
    let chain: readonly string[] | undefined;
    try {
      chain = await search.member(object, objectRef.value.type, relation, 1);
    } catch (error) {
      if (error instanceof LimitReached) throw undecided(object, relation, subject, error.message);
      throw error;
    }
    if (chain) return { ok: true, chain: [subject, ...chain] };
    // A branch cut short might have granted: the answer is unknown, and unknown must not read as
    // "no" (inside `not`, or in a deny rule, that would open the door). The whole decision denies.
    if (search.depthLimited) throw undecided(object, relation, subject, `depth limit ${this.schema.maxDepth} reached`);
    return { ok: false };
  }
}

/** Ends a search that has used up its budget. */
class LimitReached extends Error {}

function undecided(object: string, relation: string, subject: string, why: string): DenyError {
  return new DenyError('relation_limit_reached', `${subject} on ${object}#${relation}: ${why}`);
}

/** One check's depth-first search. */
class Search {
  depthLimited = false;
  private reads = 0;
  private visits = 0;
  /** Tuple sets read so far in this check: a userset reached twice is read once. */
  private readonly cache = new Map<string, readonly string[]>();
  /** Usersets on the current path (cycle guard). */
  private readonly path = new Set<string>();
  /** Usersets fully explored without granting, with nothing cut short by a cycle or the depth limit. */
  private readonly excluded = new Set<string>();
  /** Bumped whenever the search is cut short; a subtree without cuts can be remembered as a no. */
  private cuts = 0;

  constructor(
    private readonly store: Pick<StateStore, 'kind' | 'subjectsOf'>,
    private readonly schema: RelationSchema,
    private readonly subject: string,
    private readonly options: ReadOptions | undefined,
  ) {}

  /** The chain from the subject's first userset to `object#relation`, or undefined. */
  async member(object: string, type: string, relation: string, depth: number): Promise<readonly string[] | undefined> {
    const here = `${object}#${relation}`;
    const rewrites = this.schema.rewrites(type, relation);
    if (!rewrites || this.excluded.has(here)) return undefined;
    if (this.path.has(here)) {
      this.cuts++;
      return undefined;
    }
    if (depth > this.schema.maxDepth) {
      this.depthLimited = true;
      this.cuts++;
      return undefined;
    }
    const maxVisits = this.schema.maxReads * VISITS_PER_READ;
    if (++this.visits > maxVisits) throw new LimitReached(`search limit of ${maxVisits} steps reached`);
    const cutsBefore = this.cuts;
    this.path.add(here);
    try {
      const found = await this.expand(object, type, relation, rewrites, depth);
      if (found) return [...found, here];
    } finally {
      this.path.delete(here);
    }
    if (this.cuts === cutsBefore) this.excluded.add(here);
    return undefined;
  }

  private async expand(object: string, type: string, relation: string, rewrites: readonly Rewrite[], depth: number): Promise<readonly string[] | undefined> {
    const subjects = await this.read(object, relation);
    if (subjects.includes(this.subject)) return [];
    // Userset subjects: everyone with that relation on that object.
    for (const subject of subjects) {
      const userset = parseSubjectRef(subject);
      if (!userset.ok || userset.value.relation === undefined) continue;
      const found = await this.member(`${userset.value.type}:${userset.value.id}`, userset.value.type, userset.value.relation, depth + 1);
      if (found) return found;
    }
    for (const rewrite of rewrites) {
      if (rewrite.kind === 'computed') {
        const found = await this.member(object, type, rewrite.relation, depth + 1);
        if (found) return found;
        continue;
      }
      // Tuple-to-userset: the objects object#tupleset points to, and `relation` on each.
      for (const linked of await this.read(object, rewrite.tupleset)) {
        const target = parseSubjectRef(linked);
        if (!target.ok || target.value.relation !== undefined) continue;
        const found = await this.member(linked, target.value.type, rewrite.relation, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }

  private async read(object: string, relation: string): Promise<readonly string[]> {
    const key = `${object}#${relation}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (this.reads >= this.schema.maxReads) throw new LimitReached(`read limit ${this.schema.maxReads} reached`);
    this.reads++;
    const subjects = await readStore(this.store, () => this.store.subjectsOf(object, relation, this.options));
    this.cache.set(key, subjects);
    return subjects;
  }
}

/** Until a relation schema is configured no relation condition can load, so none is ever asked. */
export const NO_RELATIONS: RelationChecker = { check: async () => ({ ok: false, detail: 'no relation schema is configured' }) };

/** The checker for a store: the resolver when a schema is configured, else one that grants nothing. */
export function relationChecker(store: Pick<StateStore, 'kind' | 'subjectsOf'>, schema: RelationSchema | undefined): RelationChecker {
  return schema ? new RelationResolver(store, schema) : NO_RELATIONS;
}
