// `store.cache` in the settings file: defaults, durations, and located errors.
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
afterEach(() => workspace?.remove());

function load(store: string) {
  workspace = new Workspace();
  const file = workspace.write('keycard.yaml', `policies: { dir: p }\nstore: ${store}\n`);
  return { file, load: () => loadSettings(file) };
}

describe('store.cache settings', () => {
  it('defaults to 10,000 answers per cache and a 30 s ttl', () => {
    const settings = load('{ type: redis, url: "redis://127.0.0.1:6390/0" }').load();
    expect(settings.store).toMatchObject({ type: 'redis', cache: { maxEntries: 10_000, ttl: 30_000 } });
  });

  it('reads maxEntries and a ttl duration', () => {
    const settings = load('{ type: redis, url: "redis://127.0.0.1:6390/0", cache: { maxEntries: 500, ttl: 5s } }').load();
    expect(settings.store).toMatchObject({ cache: { maxEntries: 500, ttl: 5000 } });
    expect(load('{ type: redis, url: "redis://127.0.0.1:6390/0", cache: { ttl: 0 } }').load().store).toMatchObject({ cache: { maxEntries: 10_000, ttl: 0 } });
  });

  it('rejects unknown keys, bad sizes and bad durations with their location', () => {
    const cases = [
      ['{ type: redis, url: "redis://h/0", cache: { size: 5 } }', 'store.cache.size: unknown key "size"'],
      ['{ type: redis, url: "redis://h/0", cache: { maxEntries: 0 } }', 'store.cache.maxEntries:'],
      ['{ type: redis, url: "redis://h/0", cache: { ttl: soon } }', 'store.cache.ttl: "soon" is not a duration'],
      ['{ type: memory, cache: { ttl: 5s } }', 'store.cache: unknown key "cache"'],
    ] as const;
    for (const [store, message] of cases) {
      const { file, load: run } = load(store);
      expect(configError(run, 'settings loaded without error').message.replace(file, 'keycard.yaml')).toContain(message);
    }
  });
});
