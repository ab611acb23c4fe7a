// TokenCache: keyed by a hash of the token, bounded, never trusted past exp, TTL capped.
import { describe, expect, it } from 'vitest';
import type { AuthenticatedIdentity } from '../../src/authn/identity.js';
import { TokenCache } from '../../src/authn/token-cache.js';

const START = 1_700_000_000_000; // a fixed epoch-ms clock start (non-zero: lru-cache treats a 0 start as "no TTL")

/** A manual clock for the cache. */
class Clock {
  ms = START;
  readonly now = () => this.ms;

  /**
   * Moves the clock. lru-cache memoizes its clock reading for 1 ms of real time (`ttlResolution`),
   * so let that pass before the next lookup for the cache to see the new time.
   */
  async advance(ms: number): Promise<void> {
    this.ms += ms;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function identity(subject: string, expiresAt: number): AuthenticatedIdentity {
  return { authenticated: true, subject, issuer: 'test-idp', credential: 'jwt', claims: { sub: subject, exp: expiresAt }, expiresAt };
}

/** An identity that expires `seconds` after the clock's current time. */
const expiringIn = (clock: Clock, seconds: number, subject = 'alice') => identity(subject, Math.floor(clock.ms / 1000) + seconds);

describe('TokenCache.key', () => {
  it('is a SHA-256 base64url digest of the token, never the token itself', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
    const key = TokenCache.key(token);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).toBe(TokenCache.key(token));
    expect(key).not.toContain('eyJ');
    expect(TokenCache.key(`${token}x`)).not.toBe(key);
    // Known vector: SHA-256("abc").
    expect(TokenCache.key('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('TokenCache', () => {
  it('returns what was stored, and nothing for unknown keys', () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(10, 60_000, clock.now);
    const alice = expiringIn(clock, 600);
    cache.set('k1', alice);
    expect(cache.get('k1')).toBe(alice);
    expect(cache.get('k2')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('never returns an identity at or after its exp, and forgets it', async () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(10, 3_600_000, clock.now);
    const alice = expiringIn(clock, 60);
    cache.set('k', alice);

    await clock.advance(alice.expiresAt * 1000 - clock.ms - 1);
    expect(cache.get('k')).toBe(alice);

    await clock.advance(1);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store an identity that has already expired', () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(10, 60_000, clock.now);
    cache.set('past', expiringIn(clock, -1));
    cache.set('now', identity('bob', clock.ms / 1000));
    expect(cache.size).toBe(0);
    expect(cache.get('past')).toBeUndefined();
    expect(cache.get('now')).toBeUndefined();
  });

  it('caps the time an identity is trusted at maxTtl, even when exp is far away', async () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(10, 1_000, clock.now);
    const alice = expiringIn(clock, 24 * 3600);
    cache.set('k', alice);

    await clock.advance(1_000);
    expect(cache.get('k')).toBe(alice);

    await clock.advance(1);
    expect(cache.get('k')).toBeUndefined();
  });

  it('stores nothing when maxTtl is 0', () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(10, 0, clock.now);
    cache.set('k', expiringIn(clock, 600));
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded: beyond maxEntries the least recently used entry is evicted', () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(3, 60_000, clock.now);
    for (const name of ['a', 'b', 'c']) cache.set(name, expiringIn(clock, 600, name));
    expect(cache.get('a')?.subject).toBe('a'); // a is now the most recently used

    cache.set('d', expiringIn(clock, 600, 'd'));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((name) => cache.get(name)?.subject)).toEqual(['a', 'c', 'd']);

    for (let i = 0; i < 100; i += 1) cache.set(`n${i}`, expiringIn(clock, 600, `n${i}`));
    expect(cache.size).toBe(3);
  });

  it('replaces an entry set again under the same key', () => {
    const clock = new Clock();
    const cache = new TokenCache<AuthenticatedIdentity>(3, 60_000, clock.now);
    cache.set('k', expiringIn(clock, 600, 'first'));
    cache.set('k', expiringIn(clock, 600, 'second'));
    expect(cache.size).toBe(1);
    expect(cache.get('k')?.subject).toBe('second');
  });
});
