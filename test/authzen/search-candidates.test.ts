// The search walk reads live state like every other decision step: a store that fails makes the
// walk a 503 store_unavailable (DenyError), never an internal error.
import { describe, expect, it } from 'vitest';
import { resourceCandidates, subjectCandidates } from '../../src/authzen/search-candidates.js';
import { DenyError } from '../../src/errors.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { RelationTuple, RoleBinding, TupleFilter } from '../../src/state/store.js';

/** A store whose listing reads fail, as Redis does while it is down. */
class FailingListings extends MemoryStore {
  override listTuples(_filter?: TupleFilter): Promise<readonly RelationTuple[]> {
    return Promise.reject(new Error('connection lost'));
  }
  override listRoleBindings(_subject?: string): Promise<readonly RoleBinding[]> {
    return Promise.reject(new Error('connection lost'));
  }
}

async function failure(walk: Promise<unknown>): Promise<unknown> {
  try {
    await walk;
  } catch (error) {
    return error;
  }
  throw new Error('the walk did not fail');
}

describe('search candidates with the store down', () => {
  it('subject and resource walks fail as store_unavailable', async () => {
    const store = new FailingListings();
    for (const walk of [subjectCandidates(store, 'user', 'todo:1', 'todos'), resourceCandidates(store, 'user:alice', 'todo')]) {
      const error = await failure(walk);
      expect(error).toBeInstanceOf(DenyError);
      expect((error as DenyError).reason).toBe('store_unavailable');
    }
  });
});
