// One page of a search: walk the sorted candidates after the token's position, decide each with
// the policy, stop at the page size or at the per-page decision budget, and hand back a token
// for the rest. A page may hold fewer results than asked (even none) with a non-empty
// next_token when the budget ran out first: the spec lets a page be any size, and bounded work
// per request matters more than full pages.
import type { JsonObject } from '../access/types.js';
import { after, type Candidates } from './search-candidates.js';
import { encodePageToken } from './page-token.js';

/** Decisions run at once within a page. */
const PARALLEL_CHECKS = 16;

export interface PageOptions {
  /** Where the previous page stopped (decoded page token). */
  readonly position: string | undefined;
  readonly limit: number;
  readonly maxChecks: number;
  /** The query digest tokens are bound to. */
  readonly digest: string;
}

export interface SearchResponse<T> {
  readonly results: readonly T[];
  readonly page: { readonly next_token: string; readonly count: number; readonly properties?: JsonObject };
}

export async function searchPage<T>(candidates: Candidates, options: PageOptions, allowed: (id: string) => Promise<boolean>, result: (id: string) => T): Promise<SearchResponse<T>> {
  const remaining = after(candidates.ids, options.position);
  const results: T[] = [];
  let examined = 0;
  let lastExamined: string | undefined;
  while (examined < remaining.length && results.length < options.limit && examined < options.maxChecks) {
    const chunk = remaining.slice(examined, examined + Math.min(PARALLEL_CHECKS, options.maxChecks - examined));
    const verdicts = await Promise.all(chunk.map(allowed));
    for (const [index, id] of chunk.entries()) {
      examined++;
      lastExamined = id;
      if (verdicts[index]) results.push(result(id));
      if (results.length >= options.limit) break;
    }
  }
  const more = examined < remaining.length;
  const position = lastExamined ?? options.position;
  const nextToken = more ? encodePageToken(options.digest, position ?? '') : '';
  return {
    results,
    page: { next_token: nextToken, count: results.length, ...(candidates.truncated && { properties: { truncated: true } }) },
  };
}
