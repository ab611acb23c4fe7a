import type { StoreSettings } from '../config/settings.js';
import type { RelationSchemaView } from '../policy/conditions/types.js';
import { CachingStore } from './caching-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis/redis-store.js';
import type { StoreLog } from './redis/store-log.js';
import { loadSeedFile, type Seed } from './seed-file.js';
import type { StoreObserver } from './store-observer.js';
import type { StateStore } from './store.js';

/**
 * `relations`: the relation schema the seed's tuples are checked against. A Redis store connects in
 * the background and applies the seed only if the store has never been seeded (see redis/seed.ts).
 */
export function createStore(settings: StoreSettings, relations?: RelationSchemaView, log?: StoreLog): StateStore {
  const seed = settings.seedFile ? loadSeedFile(settings.seedFile, relations) : undefined;
  if (settings.type === 'redis') return new RedisStore({ settings, ...(seed && { seed }), ...(log && { log }) });
  return storeFromSeed(seed ?? { roleBindings: [] });
}

/**
 * The store a serving keycard decides with: a shared store (whatever createStore built) behind the
 * read cache (caching-store.ts, sized by `store.cache`), so most reads cost no round trip; the
 * memory store as it is. One-shot tools (the state commands) use createStore: no cache, no feed.
 */
export function createServingStore(settings: StoreSettings, relations?: RelationSchemaView, log?: StoreLog, observer?: StoreObserver): StateStore {
  const store = createStore(settings, relations, log);
  if (settings.type === 'memory') return store;
  return new CachingStore(store, { ...settings.cache, ...(observer && { observer }) });
}

/** A memory store holding exactly `seed` (also used by `keycard test` for a file's `state:`). */
export function storeFromSeed(seed: Seed): StateStore {
  return new MemoryStore(seed.roleBindings, seed.tuples, Date.now, seed.subjects);
}
