// The bounded parts of the explorer: the circular buffer under the ring and the worker's outbox,
// and the ring itself (capacity respected, newest first, numbered, filtered, listened to).
import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../../src/explorer/bounded-queue.js';
import type { CheckRecord } from '../../src/explorer/record.js';
import { DecisionRing } from '../../src/explorer/ring.js';

function record(n: number, fields: Partial<CheckRecord> = {}): CheckRecord {
  return { id: `d${n}`, time: new Date(n * 1000).toISOString(), method: 'GET', host: 'h', requestPath: `/p/${n}`, roles: [], decision: 'allow', status: 200, reason: 'allowed', trace: [], latencyMs: 1, ...fields };
}

describe('BoundedQueue', () => {
  it('keeps the newest `capacity` items, counts the ones it dropped, and hands them out oldest first', () => {
    const queue = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) queue.push(i);
    expect(queue.size).toBe(3);
    expect(queue.dropped).toBe(2);
    expect([...queue.newestFirst()]).toEqual([5, 4, 3]);
    expect(queue.take(2)).toEqual([3, 4]);
    queue.push(6);
    queue.push(7);
    expect(queue.take(10)).toEqual([5, 6, 7]);
    expect(queue.size).toBe(0);
    expect(queue.take(1)).toEqual([]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});

describe('DecisionRing', () => {
  it('respects its capacity and lists newest first, each record numbered', () => {
    const ring = new DecisionRing(3);
    for (let i = 1; i <= 7; i++) ring.add(record(i));
    expect(ring.size).toBe(3);
    expect(ring.latestSeq).toBe(7);
    expect(ring.list().map((entry) => [entry.seq, entry.record.id])).toEqual([
      [7, 'd7'],
      [6, 'd6'],
      [5, 'd5'],
    ]);
    expect(ring.get('d6')?.seq).toBe(6);
    expect(ring.get('d1')).toBeUndefined();
    expect(ring.list({ after: 5 }).map((entry) => entry.seq)).toEqual([7, 6]);
    expect(ring.list({ limit: 1 }).map((entry) => entry.seq)).toEqual([7]);
  });

  it('filters by decision exactly and by service, reason, subject and path as case-insensitive parts', () => {
    const ring = new DecisionRing(10);
    ring.add(record(1, { service: 'orders', subject: 'Alice', path: '/orders/1', requestPath: '/orders/1' }));
    ring.add(record(2, { service: 'orders', decision: 'deny', status: 403, reason: 'no_matching_rule', subject: 'bob', path: '/orders/2/refund', requestPath: '/orders/2/refund' }));
    ring.add(record(3, { decision: 'deny', status: 400, reason: 'invalid_path', requestPath: '/a/../../x' }));
    ring.add(record(4, { service: 'payments', decision: 'dry_run_deny', subject: 'alice' }));
    const ids = (query: Parameters<DecisionRing['list']>[0]) => ring.list(query).map((entry) => entry.record.id);
    expect(ids({ decision: 'deny' })).toEqual(['d3', 'd2']);
    expect(ids({ decision: 'dry_run_deny' })).toEqual(['d4']);
    expect(ids({ service: 'ORD' })).toEqual(['d2', 'd1']);
    expect(ids({ subject: 'alice' })).toEqual(['d4', 'd1']);
    expect(ids({ reason: 'path' })).toEqual(['d3']);
    // The normalized path, else the path as sent (a path that could not be normalized).
    expect(ids({ path: 'refund' })).toEqual(['d2']);
    expect(ids({ path: '../../x' })).toEqual(['d3']);
    expect(ids({ service: 'orders', decision: 'deny', subject: 'bo' })).toEqual(['d2']);
  });

  it('with masked subjects, finds a subject typed in clear by its mask', () => {
    const mask = (subject: string) => `masked:${subject.length}`;
    const ring = new DecisionRing(10, mask);
    ring.add(record(1, { subject: 'masked:5' }));
    ring.add(record(2, { subject: 'masked:3' }));
    expect(ring.list({ subject: 'alice' }).map((entry) => entry.record.id)).toEqual(['d1']);
    expect(ring.list({ subject: 'masked:3' }).map((entry) => entry.record.id)).toEqual(['d2']);
  });

  it('tells its listeners of every record until they stop listening', () => {
    const ring = new DecisionRing(2);
    let heard = 0;
    const stop = ring.subscribe(() => heard++);
    ring.add(record(1));
    ring.add(record(2));
    stop();
    ring.add(record(3));
    expect(heard).toBe(2);
  });
});
