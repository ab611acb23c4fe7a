// A store read in the identity phase: a store failure is a 503 store_unavailable deny (as in the
// pipeline's state phase), never an accidental allow or an internal error.
import { DenyError } from '../../errors.js';
import type { StateStore } from '../../state/store.js';

export async function readStore<T>(store: StateStore, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof DenyError) throw error;
    throw new DenyError('store_unavailable', `${store.kind} store: ${(error as Error)?.message ?? String(error)}`);
  }
}
