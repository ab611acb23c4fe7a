// A fixed-size circular buffer: pushing onto a full one overwrites the oldest item. Memory stays
// bounded whatever the rate of pushes, and every operation is O(1) per item.
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;
  /** Items overwritten before anyone took them. */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    const end = (this.start + this.count) % this.capacity;
    this.items[end] = item;
    if (this.count < this.capacity) {
      this.count++;
    } else {
      this.start = (this.start + 1) % this.capacity;
      this.dropped++;
    }
  }

  /** Removes and returns up to `max` items, oldest first. */
  take(max: number): T[] {
    const n = Math.min(max, this.count);
    const taken: T[] = [];
    for (let i = 0; i < n; i++) {
      taken.push(this.items[this.start] as T);
      this.items[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
    }
    this.count -= n;
    return taken;
  }

  /** Items from newest to oldest, without removing them. */
  *newestFirst(): IterableIterator<T> {
    for (let i = this.count - 1; i >= 0; i--) yield this.items[(this.start + i) % this.capacity] as T;
  }
}
