// The API key format `kc_<id>_<secret>`: a public id (12 base62 characters: lookup, listing and
// revocation) and a secret (32 random bytes, base64url). Only HMAC-SHA256(pepper, secret) is
// stored, so a copy of the store does not hold a usable key, and without the pepper (kept out of
// the store) the hashes cannot even be tested against guesses.
import { createHmac, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'kc_';
export const API_KEY_ID_LENGTH = 12;
/** base64url of 32 bytes, unpadded. */
const SECRET_LENGTH = 43;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_ID = /^[0-9A-Za-z]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** The whole key, for telling a pasted key from an id (never to log it). */
export const API_KEY_SHAPE = /^kc_[0-9A-Za-z]{12}_[A-Za-z0-9_-]{43}$/;

export interface NewApiKey {
  readonly id: string;
  readonly secret: string;
  /** What the client sends: shown once, never stored. */
  readonly key: string;
}

export function generateApiKey(): NewApiKey {
  const id = randomBase62(API_KEY_ID_LENGTH);
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, key: `${API_KEY_PREFIX}${id}_${secret}` };
}

/** base64url(HMAC-SHA256(pepper, secret)): what the store keeps. */
export function hashApiKeySecret(pepper: Buffer, secret: string): string {
  return hmac(pepper, secret).toString('base64url');
}

export function hmac(pepper: Buffer, secret: string): Buffer {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest();
}

export type ParsedApiKey = { readonly ok: true; readonly id: string; readonly secret: string } | { readonly ok: false; readonly problem: string };

/** Splits a presented key; the problem names the part that is wrong, never the key itself. */
export function parseApiKey(text: string): ParsedApiKey {
  if (!text.startsWith(API_KEY_PREFIX)) return { ok: false, problem: `the API key does not start with "${API_KEY_PREFIX}"` };
  const id = text.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + API_KEY_ID_LENGTH);
  if (!API_KEY_ID.test(id)) return { ok: false, problem: `the API key id is not ${API_KEY_ID_LENGTH} letters and digits` };
  const rest = text.slice(API_KEY_PREFIX.length + API_KEY_ID_LENGTH);
  if (!rest.startsWith('_')) return { ok: false, problem: `the API key id ${id} is not followed by "_"` };
  const secret = rest.slice(1);
  if (!SECRET.test(secret)) {
    return { ok: false, problem: `the secret of API key ${id} is not ${SECRET_LENGTH} base64url characters (got ${Math.min(secret.length, 9999)} characters)` };
  }
  return { ok: true, id, secret };
}

/** Uniform base62: bytes ≥ 248 are dropped so every character is equally likely (248 = 4 × 62). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}
