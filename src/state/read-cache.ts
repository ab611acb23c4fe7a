// A bounded read-through cache for one kind of store read (see caching-store.ts for the rules).
//
// - At most `maxEntries` answers, least recently used evicted first. An answer is fresh for `ttlMs`
//   after it was read; past that it stays (within the bound) only as a stale fallback.
// - Every answer carries tags (a subject, a jti, ...). Invalidating a tag drops every answer and
//   every read in flight that carries it: a read that started before the invalidation still answers
//   the callers that were already waiting, but it never enters the cache, and a caller arriving
//   after the invalidation starts a read of its own instead of joining the old one.
// - Identical reads in flight at the same time are made once and shared.
// - When the backing store fails, a caller with `maxStaleMs > 0` is answered from a cached answer
//   at most that old, fresh or not; otherwise the failure is passed on.
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type { StoreObserver, StoreReadOp } from './store-observer.js';
import type { ReadOptions } from './store.js';

interface Entry<V> {
  readonly value: V;
  /** When the backing store answered, in `now()` milliseconds. */
  readonly storedAt: number;
  readonly tags: readonly string[];
}

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly tags: readonly string[];
  /** False once an invalidation touched it: its answer may predate the change. */
  current: boolean;
}

export interface ReadCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly observer: StoreObserver;
  /** Whether fresh answers may be used; false while the change feed is down (answers may be outdated). */
  readonly trusted: () => boolean;
}

export class ReadCache<V> {
  private readonly entries: LRUCache<string, Entry<V>>;
  private readonly flights = new Map<string, Flight<V>>();
  /** tag → keys of the cached answers carrying it. Holds only keys present in `entries`. */
  private readonly byTag = new Map<string, Set<string>>();

  constructor(
    private readonly op: StoreReadOp,
    private readonly options: ReadCacheOptions,
  ) {
    this.entries = new LRUCache<string, Entry<V>>({ max: options.maxEntries, dispose: (entry, key) => this.unindex(key, entry.tags) });
  }

  /** The answer for `key`: fresh from the cache, or read by `load` (shared with identical reads in flight). */
  async read(key: string, tags: readonly string[], load: () => Promise<V>, options?: ReadOptions): Promise<V> {
    const { observer, now, ttlMs } = this.options;
    const entry = this.entries.get(key);
    if (entry !== undefined && now() - entry.storedAt < ttlMs && this.options.trusted()) {
      observer.cacheLookup(this.op, true);
      observer.operation(this.op, 'ok');
      return entry.value;
    }
    observer.cacheLookup(this.op, false);
    const flight = this.flights.get(key) ?? this.start(key, tags, load);
    try {
      const value = await flight.promise;
      observer.operation(this.op, 'ok');
      return value;
    } catch (error) {
      const stale = this.staleEntry(key, options?.maxStaleMs ?? 0);
      if (stale === undefined) {
        observer.operation(this.op, 'error');
        throw error;
      }
      observer.operation(this.op, 'stale');
      return stale.value;
    }
  }

  /** Drops the answers and reads in flight that carry `tag`. */
  invalidate(tag: string): void {
    for (const key of [...(this.byTag.get(tag) ?? [])]) this.entries.delete(key);
    for (const [key, flight] of this.flights) {
      if (flight.tags.includes(tag)) this.abandon(key, flight);
    }
  }

  /** Drops every answer and every read in flight. */
  clear(): void {
    this.entries.clear();
    this.byTag.clear();
    for (const [key, flight] of this.flights) this.abandon(key, flight);
  }

  get size(): number {
    return this.entries.size;
  }

  private start(key: string, tags: readonly string[], load: () => Promise<V>): Flight<V> {
    const started = performance.now();
    const settle = () => {
      this.options.observer.innerCall(this.op, (performance.now() - started) / 1000);
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    let loading: Promise<V>;
    try {
      loading = load();
    } catch (error) {
      loading = Promise.reject(error);
    }
    const flight: Flight<V> = {
      tags,
      current: true,
      promise: loading.then(
        (value) => {
          settle();
          if (flight.current) this.store(key, tags, value);
          return value;
        },
        (error: unknown) => {
          settle();
          throw error;
        },
      ),
    };
    this.flights.set(key, flight);
    return flight;
  }

  private store(key: string, tags: readonly string[], value: V): void {
    // Replacing an entry disposes the old one (unindexing the key) before the new one is indexed.
    this.entries.set(key, { value, storedAt: this.options.now(), tags });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private staleEntry(key: string, maxStaleMs: number): Entry<V> | undefined {
    if (!(maxStaleMs > 0)) return undefined;
    const entry = this.entries.peek(key);
    return entry !== undefined && this.options.now() - entry.storedAt <= maxStaleMs ? entry : undefined;
  }

  private abandon(key: string, flight: Flight<V>): void {
    flight.current = false;
    this.flights.delete(key);
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}
