// Session cookie values and session ids. The value is 32 random bytes (base64url) that only the
// client holds; the store knows the session by the SHA-256 of it, so whoever reads the store (or
// `keycard sessions list`) learns ids that can revoke a session but not act as it.
import { createHash, randomBytes } from 'node:crypto';

export const SESSION_VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface NewSession {
  /** The cookie value: shown once, never stored. */
  readonly value: string;
  /** The store id: base64url SHA-256 of the value. */
  readonly id: string;
}

export function generateSession(): NewSession {
  const value = randomBytes(32).toString('base64url');
  return { value, id: sessionIdOf(value) };
}

export function sessionIdOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}
