// `store.cache` (shared stores only; the memory store needs no cache): how many answers each read
// cache holds and how long an answer is used before the store is asked again.
//   store:
//     type: redis
//     cache: { maxEntries: 10000, ttl: 30s }
import { z } from 'zod';
import { DEFAULT_CACHE_SETTINGS } from '../state/caching-store.js';
import { durationMs } from './duration.js';

export const storeCacheSchema = z
  .strictObject({
    /** Answers per cache (role bindings, tuples, revocations each); least recently used evicted first. */
    maxEntries: z.number().int().positive().default(DEFAULT_CACHE_SETTINGS.maxEntries),
    /** The longest an answer is used without asking the store, even if a change message was lost. 0: always ask. */
    ttl: durationMs.default(DEFAULT_CACHE_SETTINGS.ttl),
  })
  .default({ ...DEFAULT_CACHE_SETTINGS });
