// Listing reads in batches, so one large listing never blocks Redis (or this process) for long.

/** Batch size for listing (SSCAN COUNT and parallel reads). */
export const BATCH = 500;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += BATCH) out.push(items.slice(start, start + BATCH));
  return out;
}
