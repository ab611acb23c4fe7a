// Checks on API key and session records before any store keeps them, so a store never holds a
// record a provider could misread (a NaN expiry would never expire).
import type { ApiKeyRecord, SessionClaims, SessionRecord } from './store.js';

/** Seconds since the epoch beyond which a time is surely a mistake (year 5138). */
const MAX_EPOCH_SECONDS = 1e11;
const MAX_TEXT = 1024;
// eslint-disable-next-line no-control-regex
const TOKEN = /^[^\s\x00-\x1f\x7f]+$/;
// eslint-disable-next-line no-control-regex
const LABEL = /^[^\x00-\x1f\x7f]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Throws TypeError naming the first problem of an API key record. */
export function checkApiKeyRecord(record: ApiKeyRecord): void {
  const problem =
    textProblem('id', record.id, TOKEN) ??
    textProblem('subject', record.subject, TOKEN) ??
    (typeof record.hash === 'string' && BASE64URL.test(record.hash) ? undefined : 'hash must be base64url') ??
    (Array.isArray(record.scopes) ? record.scopes.map((scope, index) => textProblem(`scopes[${index}]`, scope, TOKEN)).find(Boolean) : 'scopes must be a list') ??
    (record.name === undefined ? undefined : textProblem('name', record.name, LABEL)) ??
    epochProblem('createdAt', record.createdAt) ??
    (record.expiresAt === undefined ? undefined : epochProblem('expiresAt', record.expiresAt));
  if (problem !== undefined) throw new TypeError(`invalid API key record: ${problem}`);
}

/** Throws TypeError naming the first problem of a session record. */
export function checkSessionRecord(record: SessionRecord): void {
  const problem =
    textProblem('id', record.id, TOKEN) ??
    textProblem('subject', record.subject, TOKEN) ??
    epochProblem('createdAt', record.createdAt) ??
    epochProblem('lastSeenAt', record.lastSeenAt) ??
    epochProblem('expiresAt', record.expiresAt) ??
    (record.claims === undefined ? undefined : claimsProblem(record.claims));
  if (problem !== undefined) throw new TypeError(`invalid session record: ${problem}`);
}

/** Throws TypeError unless `value` is seconds since the epoch. */
export function checkEpochSeconds(name: string, value: unknown): void {
  const problem = epochProblem(name, value);
  if (problem !== undefined) throw new TypeError(problem);
}

function claimsProblem(claims: SessionClaims): string | undefined {
  const acr = claims.acr === undefined ? undefined : textProblem('claims.acr', claims.acr, TOKEN);
  if (acr !== undefined) return acr;
  if (claims.amr !== undefined) {
    if (!Array.isArray(claims.amr)) return 'claims.amr must be a list';
    const bad = claims.amr.map((method, index) => textProblem(`claims.amr[${index}]`, method, TOKEN)).find(Boolean);
    if (bad) return bad;
  }
  return claims.auth_time === undefined ? undefined : epochProblem('claims.auth_time', claims.auth_time);
}

function textProblem(name: string, value: unknown, shape: RegExp): string | undefined {
  if (typeof value !== 'string' || !shape.test(value) || value.length > MAX_TEXT) {
    return `${name} must be 1 to ${MAX_TEXT} characters without ${shape === TOKEN ? 'whitespace or ' : ''}control characters`;
  }
  return undefined;
}

function epochProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_EPOCH_SECONDS) {
    return `${name} must be seconds since the epoch, got ${String(value)}`;
  }
  return undefined;
}
