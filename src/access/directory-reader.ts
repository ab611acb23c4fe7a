// The subject directory as conditions read it: `subject.properties.*`. The directory is read at
// most once per decision and only when a condition asks (a policy that never reads
// `subject.properties` never sets this up: no store read per Check for it). A store failure
// becomes a store_unavailable deny, as for roles.
import { readStore } from '../state/store-read.js';
import type { ReadOptions, StateStore } from '../state/store.js';
import type { JsonObject } from './types.js';

/** Reads the directory properties of `subject` once, on first use; `merge` combines them with what the caller sent. */
export function directoryReader(
  store: StateStore,
  subject: string,
  reads: ReadOptions,
  merge: (directory: JsonObject | undefined) => JsonObject | undefined = (directory) => directory,
): () => Promise<JsonObject | undefined> {
  let pending: Promise<JsonObject | undefined> | undefined;
  return () => (pending ??= readStore(store, () => store.subjectProperties(subject, reads)).then(merge));
}
