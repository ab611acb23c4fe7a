import type { StoreSettings } from '../config/settings.js';
import type { RelationSchemaView } from '../policy/conditions/types.js';
import { MemoryStore } from './memory-store.js';
import { loadSeedFile, type Seed } from './seed-file.js';
import type { StateStore } from './store.js';

/** `relations`: the relation schema the seed's tuples are checked against. */
export function createStore(settings: StoreSettings, relations?: RelationSchemaView): StateStore {
  return storeFromSeed(settings.seedFile ? loadSeedFile(settings.seedFile, relations) : { roleBindings: [] });
}

/** A memory store holding exactly `seed` (also used by `keycard test` for a file's `state:`). */
export function storeFromSeed(seed: Seed): StateStore {
  return new MemoryStore(seed.roleBindings, seed.tuples);
}
