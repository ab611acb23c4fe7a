// Search page tokens: opaque to the caller, bound to the query they continue. A token carries the
// position after which the next page starts (the last candidate examined, in a stable order) and
// a digest of the query without its page; one sent with another query, or that does not decode,
// is a 400, never a crash. The token is not a secret and needs no key (so every cluster worker
// reads every other worker's tokens): whatever position a forged token names, each result is
// still decided by the policy before it is returned.
import { createHash } from 'node:crypto';
import { BadRequest } from './request-shapes.js';

const VERSION = 1;
const MAX_TOKEN_LENGTH = 4096;

/** A stable digest of a query: same keys and values in any order → same digest. */
export function queryDigest(kind: string, query: unknown): string {
  return createHash('sha256').update(kind).update('\0').update(stableJson(query)).digest('base64url').slice(0, 22);
}

export function encodePageToken(digest: string, after: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, q: digest, a: after })).toString('base64url');
}

/** The position the token continues after; BadRequest when it is not a token of this query. */
export function decodePageToken(token: string, digest: string): string {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw new BadRequest('page.token is not a token this PDP issued');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequest('page.token is not a token this PDP issued');
  }
  const fields = parsed as { v?: unknown; q?: unknown; a?: unknown } | null;
  if (typeof fields !== 'object' || fields === null || fields.v !== VERSION || typeof fields.q !== 'string' || typeof fields.a !== 'string') {
    throw new BadRequest('page.token is not a token this PDP issued');
  }
  if (fields.q !== digest) throw new BadRequest('page.token belongs to another query: send the same subject, action, resource and context as the first page');
  return fields.a;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
