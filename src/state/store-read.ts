// A store read made while deciding: a store failure becomes a 503 store_unavailable deny, never an
// accidental allow or an internal error. The state phase, relation checks and the store-backed
// credentials (API keys, sessions) all read through this.
import { DenyError } from '../errors.js';
import type { StateStore } from './store.js';

export async function readStore<T>(store: Pick<StateStore, 'kind'>, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof DenyError) throw error;
    throw new DenyError('store_unavailable', `${store.kind} store: ${(error as Error)?.message ?? String(error)}`);
  }
}
