// What the caching store reports about its reads, for metrics. Every label value is drawn from a
// fixed set, so the series stay bounded whatever subjects, objects or tokens are read.
import type { StateChange } from './store.js';

/** The live-state reads the pipeline makes (apiKey and session: in the identity phase; subjectProperties: for conditions on the subject directory). */
export type StoreReadOp = 'rolesFor' | 'subjectsOf' | 'revocationFor' | 'apiKey' | 'session' | 'subjectProperties';

/**
 * How one read was answered: `ok` (from the cache or the backing store), `stale` (the backing
 * store failed and a cached answer within the caller's maxStale was used), `error` (it failed).
 */
export type StoreReadResult = 'ok' | 'error' | 'stale';

export interface StoreObserver {
  /** One read answered (or failed), whichever way. */
  operation(op: StoreReadOp, result: StoreReadResult): void;
  /** One call to the backing store, its duration in seconds. */
  innerCall(op: StoreReadOp, seconds: number): void;
  /** A read found a fresh cached answer (hit) or had to ask the backing store (miss). */
  cacheLookup(op: StoreReadOp, hit: boolean): void;
  /** A change from the feed dropped cached answers. */
  invalidation(kind: StateChange['kind']): void;
}

export const NO_OBSERVER: StoreObserver = { operation() {}, innerCall() {}, cacheLookup() {}, invalidation() {} };
