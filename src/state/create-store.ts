import type { StoreSettings } from '../config/settings.js';
import { MemoryStore } from './memory-store.js';
import { loadSeedFile } from './seed-file.js';
import type { StateStore } from './store.js';

export function createStore(settings: StoreSettings): StateStore {
  const seed = settings.seedFile ? loadSeedFile(settings.seedFile) : { roleBindings: [] };
  return new MemoryStore(seed.roleBindings);
}
