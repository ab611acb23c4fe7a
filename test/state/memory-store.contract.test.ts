// The memory store against the StateStore contract.
import { MemoryStore } from '../../src/state/memory-store.js';
import { storeContract } from './store-contract.js';

storeContract('MemoryStore', async (now) => {
  const store = new MemoryStore([], [], now);
  return { store, close: () => store.close() };
});
