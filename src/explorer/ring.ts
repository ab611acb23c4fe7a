// The recent decisions: a bounded ring, newest first, each record numbered in the order it arrived
// (seq) so a page can ask only for what is newer than what it shows. Listeners hear of each
// arrival (the live stream); they must only schedule work.
import { BoundedQueue } from './bounded-queue.js';
import type { ExplorerRecord } from './record.js';

export interface RingEntry {
  readonly seq: number;
  readonly record: ExplorerRecord;
}

export interface RecordFilter {
  /** Case-insensitive substring of the routed service. */
  readonly service?: string;
  /** allow, deny or dry_run_deny. */
  readonly decision?: string;
  /** Case-insensitive substring of the reason. */
  readonly reason?: string;
  /** Case-insensitive substring of the subject, or a subject whose mask is the record's. */
  readonly subject?: string;
  /** Case-insensitive substring of the path (normalized, else as sent); for an access decision, of `type:id` of its resource (or its normalized path). */
  readonly path?: string;
}

export interface RecordQuery extends RecordFilter {
  /** Only records with a greater seq. */
  readonly after?: number;
  readonly limit?: number;
}

export class DecisionRing {
  private readonly entries: BoundedQueue<RingEntry>;
  private seq = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly capacity: number,
    /** With masked subjects: the mask of a subject typed into the filter. */
    private readonly maskSubject?: (subject: string) => string,
  ) {
    this.entries = new BoundedQueue(capacity);
  }

  get latestSeq(): number {
    return this.seq;
  }

  get size(): number {
    return this.entries.size;
  }

  add(record: ExplorerRecord): void {
    this.entries.push({ seq: ++this.seq, record });
    for (const listener of this.listeners) listener();
  }

  /** Matching records, newest first. */
  list(query: RecordQuery = {}): RingEntry[] {
    const matches = this.matcher(query);
    const limit = query.limit ?? this.capacity;
    const found: RingEntry[] = [];
    for (const entry of this.entries.newestFirst()) {
      if (query.after !== undefined && entry.seq <= query.after) break;
      if (!matches(entry.record)) continue;
      found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  get(id: string): RingEntry | undefined {
    for (const entry of this.entries.newestFirst()) if (entry.record.id === id) return entry;
    return undefined;
  }

  /** Calls `listener` after every add; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private matcher(filter: RecordFilter): (record: ExplorerRecord) => boolean {
    const has = (value: string | undefined, wanted: string | undefined) => !wanted || (value ?? '').toLowerCase().includes(wanted.toLowerCase());
    const subjectMask = filter.subject && this.maskSubject ? this.maskSubject(filter.subject) : undefined;
    const pathMatches = (record: ExplorerRecord) =>
      record.kind === 'access'
        ? has(`${record.resourceType}:${record.resourceId}`, filter.path) || (record.path !== undefined && has(record.path, filter.path))
        : has(record.path ?? record.requestPath, filter.path);
    return (record) =>
      (!filter.decision || record.decision === filter.decision) &&
      has(record.service, filter.service) &&
      has(record.reason, filter.reason) &&
      pathMatches(record) &&
      (has(record.subject, filter.subject) || (subjectMask !== undefined && record.subject === subjectMask));
  }
}
