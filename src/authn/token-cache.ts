// Verified tokens, keyed by a SHA-256 of the token (the token itself is never held), so a token
// is verified once and then recognized. Bounded (LRU) and never trusted past the token's `exp`.
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AuthenticatedIdentity } from './identity.js';

/** What verifying a JWT established: the identity and the `typ` header (per-service checks). */
export interface VerifiedToken {
  readonly identity: AuthenticatedIdentity;
  readonly type: string | undefined;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export class TokenCache<V extends { readonly expiresAt: number } = VerifiedToken> {
  private readonly entries: LRUCache<string, V>;

  constructor(
    maxEntries: number,
    private readonly maxTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new LRUCache({ max: maxEntries, perf: { now } });
  }

  static key(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(key: string): V | undefined {
    const identity = this.entries.get(key);
    if (identity && identity.expiresAt * 1000 <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return identity;
  }

  set(key: string, identity: V): void {
    const ttl = Math.min(identity.expiresAt * 1000 - this.now(), this.maxTtlMs);
    if (ttl > 0) this.entries.set(key, identity, { ttl });
  }

  get size(): number {
    return this.entries.size;
  }
}
