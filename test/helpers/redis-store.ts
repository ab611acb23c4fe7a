// Redis stores for tests: each on its own key prefix, so tests share one private server without
// ever flushing it, and connected before the test starts.
import { redisStoreSchema, type RedisStoreSettings } from '../../src/config/redis-store-settings.js';
import { RedisStore, type RedisStoreOptions } from '../../src/state/redis/redis-store.js';
import type { StateChange } from '../../src/state/store.js';
import type { RedisServer } from './redis-server.js';

let prefixes = 0;

/** A key prefix no other store in this process uses. */
export function uniquePrefix(): string {
  return `t${process.pid}-${++prefixes}:`;
}

/** Store settings as loaded from a settings file (defaults applied); a fresh prefix unless given. */
export function redisSettings(fields: Record<string, unknown>): RedisStoreSettings {
  return redisStoreSchema.parse({ type: 'redis', keyPrefix: uniquePrefix(), ...fields });
}

/** A store on `server` (by URL), connected. */
export async function openRedisStore(server: RedisServer, fields: Record<string, unknown> = {}, options: Omit<RedisStoreOptions, 'settings'> = {}): Promise<RedisStore> {
  const store = new RedisStore({ settings: redisSettings({ url: server.url(), ...fields }), ...options });
  if (!(await store.connected(5000))) {
    await store.close();
    throw new Error(`the store did not connect to ${server.url()}: ${store.health().detail}`);
  }
  return store;
}

/** Records a store's changes; `next` waits for the next one that matches. */
export class ChangeRecorder {
  readonly seen: StateChange[] = [];
  private waiters: { match: (change: StateChange) => boolean; resolve: (change: StateChange) => void }[] = [];

  constructor(store: { onChange(listener: (change: StateChange) => void): void }) {
    store.onChange((change) => {
      this.seen.push(change);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(change)) return true;
        waiter.resolve(change);
        return false;
      });
    });
  }

  /** The next change (from now on) that matches, or a rejection after `timeoutMs`. */
  next(match: (change: StateChange) => boolean = () => true, timeoutMs = 5000): Promise<StateChange> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching change within ${timeoutMs}ms; seen: ${JSON.stringify(this.seen)}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (change) => {
          clearTimeout(timer);
          resolve(change);
        },
      });
    });
  }

  flush(timeoutMs?: number): Promise<StateChange> {
    return this.next((change) => change.kind === 'flush', timeoutMs);
  }
}

/**
 * Polls `condition` every 20 ms until it holds; rejects after `timeoutMs`. A condition that throws
 * (e.g. a server restarting drops the connection) counts as not holding yet.
 */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs}ms${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
