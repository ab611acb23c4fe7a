// API key and session records as Redis hash fields, and back. Lists and claims are JSON; times
// are decimal seconds. A hash that cannot be read back whole is treated as absent: a half-written
// or foreign record must never authenticate anyone.
import type { ApiKeyRecord, SessionClaims, SessionRecord } from '../store.js';

export const API_KEY_FIELDS = ['subject', 'hash', 'scopes', 'name', 'createdAt', 'expiresAt'] as const;
export const SESSION_FIELDS = ['subject', 'createdAt', 'lastSeenAt', 'expiresAt', 'claims'] as const;

/** Field/value pairs for HSET (absent optional fields left out). */
export function apiKeyFields(record: ApiKeyRecord): string[] {
  return [
    'subject', record.subject,
    'hash', record.hash,
    'scopes', JSON.stringify(record.scopes),
    ...(record.name === undefined ? [] : ['name', record.name]),
    'createdAt', String(record.createdAt),
    ...(record.expiresAt === undefined ? [] : ['expiresAt', String(record.expiresAt)]),
  ];
}

export function sessionFields(record: SessionRecord): string[] {
  return [
    'subject', record.subject,
    'createdAt', String(record.createdAt),
    'lastSeenAt', String(record.lastSeenAt),
    'expiresAt', String(record.expiresAt),
    ...(record.claims === undefined ? [] : ['claims', JSON.stringify(record.claims)]),
  ];
}

/** An API key from HMGET of API_KEY_FIELDS, or undefined when absent or unreadable. */
export function toApiKey(id: string, values: readonly (string | null)[] | undefined): ApiKeyRecord | undefined {
  const [subject, hash, scopesText, name, createdAt, expiresAt] = values ?? [];
  const scopes = parseJson(scopesText);
  const created = seconds(createdAt);
  const expires = seconds(expiresAt);
  const expiryUnreadable = expiresAt !== null && expiresAt !== undefined && expires === undefined;
  if (!subject || !hash || created === undefined || expiryUnreadable) return undefined;
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) return undefined;
  return {
    id,
    subject,
    hash,
    scopes: scopes as string[],
    ...(name !== null && name !== undefined && { name }),
    createdAt: created,
    ...(expires !== undefined && { expiresAt: expires }),
  };
}

/** A session from HMGET of SESSION_FIELDS, or undefined when absent or unreadable. */
export function toSession(id: string, values: readonly (string | null)[] | undefined): SessionRecord | undefined {
  const [subject, createdAt, lastSeenAt, expiresAt, claimsText] = values ?? [];
  const created = seconds(createdAt);
  const lastSeen = seconds(lastSeenAt);
  const expires = seconds(expiresAt);
  if (!subject || created === undefined || lastSeen === undefined || expires === undefined) return undefined;
  const claims = claimsText === null || claimsText === undefined ? undefined : toClaims(parseJson(claimsText));
  if (claims === null) return undefined;
  return { id, subject, createdAt: created, lastSeenAt: lastSeen, expiresAt: expires, ...(claims !== undefined && { claims }) };
}

/** null: present but unreadable. */
function toClaims(json: unknown): SessionClaims | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const { acr, amr, auth_time: authTime } = json as Record<string, unknown>;
  if (acr !== undefined && typeof acr !== 'string') return null;
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string'))) return null;
  if (authTime !== undefined && typeof authTime !== 'number') return null;
  return {
    ...(acr !== undefined && { acr }),
    ...(amr !== undefined && { amr: amr as string[] }),
    ...(authTime !== undefined && { auth_time: authTime }),
  };
}

/** Seconds from a field; undefined when absent or not a number. */
function seconds(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function parseJson(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
