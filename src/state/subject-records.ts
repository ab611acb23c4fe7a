// Subject directory records: id → properties (email, name, department...), checked before any
// store keeps them. A record is bounded (its JSON at most MAX_SUBJECT_BYTES, at most
// MAX_SUBJECT_PROPERTIES top-level properties, nested at most MAX_SUBJECT_DEPTH deep), so one
// record can never make a decision slow or a cache entry huge.
import type { JsonObject, JsonValue } from '../access/types.js';

export interface SubjectRecord {
  readonly id: string;
  readonly properties: JsonObject;
}

/** One page of the directory, in id order; `next` is the cursor of the following page. */
export interface SubjectPage {
  readonly subjects: readonly SubjectRecord[];
  readonly next?: string;
}

export interface SubjectListOptions {
  /** From a previous page's `next`: the page starts after it. */
  readonly cursor?: string;
  /** Records per page: 1 to MAX_SUBJECT_PAGE (DEFAULT_SUBJECT_PAGE when left out). */
  readonly limit?: number;
}

export const MAX_SUBJECT_BYTES = 64 * 1024;
export const MAX_SUBJECT_PROPERTIES = 256;
export const MAX_SUBJECT_DEPTH = 8;
export const MAX_SUBJECT_ID_LENGTH = 256;
export const DEFAULT_SUBJECT_PAGE = 100;
export const MAX_SUBJECT_PAGE = 1000;

// eslint-disable-next-line no-control-regex
const SUBJECT_ID = /^[^\s\x00-\x1f\x7f]+$/;

/** Why `id` cannot name a subject, or undefined. Same rule as role binding subjects. */
export function subjectIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || !SUBJECT_ID.test(id) || id.length > MAX_SUBJECT_ID_LENGTH) {
    return `a subject id is 1 to ${MAX_SUBJECT_ID_LENGTH} characters without whitespace or control characters`;
  }
  return undefined;
}

/** Why `properties` cannot be a subject's properties, or undefined. */
export function subjectPropertiesProblem(properties: unknown): string | undefined {
  if (!isPlainObject(properties)) return 'properties must be a JSON object';
  const count = Object.keys(properties).length;
  if (count > MAX_SUBJECT_PROPERTIES) return `${count} properties, more than ${MAX_SUBJECT_PROPERTIES}`;
  const problem = jsonProblem(properties, 'properties', 0);
  if (problem !== undefined) return problem;
  const bytes = Buffer.byteLength(JSON.stringify(properties));
  if (bytes > MAX_SUBJECT_BYTES) return `${bytes} bytes of JSON, more than ${MAX_SUBJECT_BYTES}`;
  return undefined;
}

/** Throws TypeError naming the first problem of a subject record. */
export function checkSubjectRecord(id: string, properties: JsonObject): void {
  const problem = subjectIdProblem(id) ?? subjectPropertiesProblem(properties);
  if (problem !== undefined) throw new TypeError(`invalid subject record${typeof id === 'string' ? ` "${id.slice(0, 64)}"` : ''}: ${problem}`);
}

/** The page size a listing uses: `limit`, or the default; TypeError when out of range. */
export function subjectPageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_SUBJECT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SUBJECT_PAGE) throw new TypeError(`limit must be an integer from 1 to ${MAX_SUBJECT_PAGE}, got ${String(limit)}`);
  return limit;
}

/** A deep, frozen copy: a store never shares a record object with its callers. */
export function frozenProperties(properties: JsonObject): JsonObject {
  return deepFreeze(JSON.parse(JSON.stringify(properties)) as JsonObject);
}

/** Properties read back from storage (JSON text), or undefined when unreadable: a foreign value is never used. */
export function parseStoredProperties(text: string | null | undefined): JsonObject | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return subjectPropertiesProblem(value) === undefined ? deepFreeze(value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

function jsonProblem(value: unknown, at: string, depth: number): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at} is not a finite number`;
  if (depth >= MAX_SUBJECT_DEPTH) return `${at} is nested more than ${MAX_SUBJECT_DEPTH} deep`;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = jsonProblem(item, `${at}[${index}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `${at} is not a JSON value`;
  for (const [key, item] of Object.entries(value)) {
    const problem = jsonProblem(item, `${at}.${key}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item as JsonValue);
    Object.freeze(value);
  }
  return value;
}
