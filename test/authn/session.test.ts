// Sessions: the cookie value and its store id, and the provider against a real memory store —
// absolute and idle expiry, throttled background touches that never fail a request, logout, the
// identity (with sid and the authentication claims), malformed cookies and store failures.
import { describe, expect, it } from 'vitest';
import { credentialRequest } from '../../src/authn/credentials/request-source.js';
import { generateSession, sessionIdOf } from '../../src/authn/credentials/session-format.js';
import { SessionProvider } from '../../src/authn/credentials/session.js';
import type { CredentialSpecOf } from '../../src/authn/credentials/types.js';
import { DenyError } from '../../src/errors.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { SessionRecord } from '../../src/state/store.js';
import { authzInput } from '../helpers/pipeline.js';

const START = Date.UTC(2026, 0, 1);
const SECONDS = START / 1000;
const SPEC: CredentialSpecOf<'session'> = { kind: 'session', cookie: 'keycard_session' };
/** idle 10 minutes (touch at most once a minute), absolute 1 hour. */
const SETTINGS = { idleTimeout: 600_000, absoluteTimeout: 3_600_000 };

class CountingStore extends MemoryStore {
  touches: [string, number][] = [];
  touchFailure: Error | undefined;
  override async touchSession(id: string, lastSeenAt: number): Promise<void> {
    this.touches.push([id, lastSeenAt]);
    if (this.touchFailure) throw this.touchFailure;
    return super.touchSession(id, lastSeenAt);
  }
}

async function setup(extra: Partial<SessionRecord> = {}) {
  let now = START;
  const store = new CountingStore([], [], () => now);
  const { value, id } = generateSession();
  const record: SessionRecord = { id, subject: 'alice', createdAt: SECONDS, lastSeenAt: SECONDS, expiresAt: SECONDS + 3600, ...extra };
  await store.putSession(record);
  const touchErrors: string[] = [];
  const provider = new SessionProvider({ store, settings: SETTINGS, now: () => now, onTouchError: (error, sessionId) => touchErrors.push(`${sessionId}: ${error.message}`) });
  const verify = (cookie: string = value) => {
    const found = provider.find(credentialRequest(authzInput('app', '/', { headers: new Map([['cookie', `theme=dark; keycard_session=${cookie}`]]) })), SPEC);
    if (!found) throw new Error('no session found');
    return found.verify();
  };
  /** Lets background touches settle. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { store, value, id, record, provider, verify, settle, touchErrors, advance: (ms: number) => (now += ms) };
}

async function denied(promise: Promise<unknown>): Promise<DenyError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(DenyError);
  return error as DenyError;
}

describe('session cookie values', () => {
  it('are 32 random bytes in base64url, known to the store only by their SHA-256', () => {
    const sessions = Array.from({ length: 50 }, generateSession);
    for (const { value, id } of sessions) {
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(id).toBe(sessionIdOf(value));
      expect(id).not.toBe(value);
    }
    expect(new Set(sessions.map((session) => session.value)).size).toBe(50);
    // A known vector: SHA-256 of "abc".
    expect(sessionIdOf('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('SessionProvider', () => {
  it('accepts a live session as its subject, with sid, iat, exp and the authentication claims', async () => {
    const { verify, id } = await setup({ claims: { acr: 'urn:loa:2', amr: ['pwd', 'otp'], auth_time: SECONDS } });
    expect(await verify()).toEqual({
      authenticated: true,
      subject: 'alice',
      issuer: 'session',
      credential: 'session',
      claims: { sub: 'alice', sid: id, iat: SECONDS, exp: SECONDS + 3600, auth_time: SECONDS, acr: 'urn:loa:2', amr: ['pwd', 'otp'] },
      expiresAt: SECONDS + 3600,
    });
  });

  it('finds the cookie by its configured name only', async () => {
    const { provider, value } = await setup();
    const request = credentialRequest(authzInput('app', '/', { headers: new Map([['cookie', `other_session=${value}`]]) }));
    expect(provider.find(request, SPEC)).toBeUndefined();
    expect(provider.find(request, { kind: 'session', cookie: 'other_session' })).toMatchObject({ carrier: 'cookie:other_session', claim: 'certain' });
  });

  it('refuses an unknown or malformed cookie with invalid_session', async () => {
    const { verify } = await setup();
    const unknown = generateSession();
    expect(await denied(verify(unknown.value))).toMatchObject({ reason: 'invalid_session', detail: `no session ${unknown.id}` });
    expect(await denied(verify('short'))).toMatchObject({ reason: 'invalid_session', detail: 'the session cookie is not 43 base64url characters (got 5 characters)' });
    // The store id is not a cookie value: it is hashed again and found nowhere.
    const { verify: verifyOther, id } = await setup();
    expect((await denied(verifyOther(id))).reason).toBe('invalid_session');
  });

  it('ends at the absolute expiry however active the session is', async () => {
    const { verify, advance, settle, id } = await setup();
    // Used every 5 minutes for 55 minutes: never idle.
    for (let step = 0; step < 11; step++) {
      advance(300_000);
      expect((await verify()).subject).toBe('alice');
      await settle();
    }
    advance(300_000);
    expect(await denied(verify())).toMatchObject({ reason: 'session_expired', detail: `session ${id} ended at 2026-01-01T01:00:00.000Z (absolute timeout)` });
  });

  it('never outlives createdAt + absoluteTimeout, even when the record says later (the setting was lowered)', async () => {
    const { verify, advance } = await setup({ expiresAt: SECONDS + 86_400 });
    advance(3_600_000);
    expect((await denied(verify())).reason).toBe('session_expired');
  });

  it('ends after idleTimeout without use', async () => {
    const alive = await setup();
    alive.advance(599_000);
    expect((await alive.verify()).subject).toBe('alice');
    const idle = await setup();
    idle.advance(600_000);
    expect(await denied(idle.verify())).toMatchObject({ reason: 'session_expired', detail: `session ${idle.id} was idle since 2026-01-01T00:00:00.000Z (idle timeout)` });
  });

  it('use keeps it alive: lastSeenAt is touched, at most once per idleTimeout/10', async () => {
    const { verify, advance, settle, store, id } = await setup();
    advance(30_000);
    await verify();
    await settle();
    expect(store.touches).toEqual([]);
    advance(30_000);
    await Promise.all([verify(), verify(), verify()]);
    await settle();
    expect(store.touches).toEqual([[id, SECONDS + 60]]);
    expect((await store.session(id))?.lastSeenAt).toBe(SECONDS + 60);
    // Active every 5 minutes for 40 minutes: never idle for 10, touched every time.
    for (let i = 0; i < 8; i++) {
      advance(300_000);
      expect((await verify()).subject).toBe('alice');
      await settle();
    }
    expect(store.touches).toHaveLength(9);
  });

  it('keeps a session with a 1s idle timeout alive while it is used every 300ms (touches to the millisecond)', async () => {
    let now = START + 250;
    const store = new CountingStore([], [], () => now);
    const { value, id } = generateSession();
    await store.putSession({ id, subject: 'alice', createdAt: SECONDS, lastSeenAt: SECONDS, expiresAt: SECONDS + 3600 });
    const provider = new SessionProvider({ store, settings: { idleTimeout: 1000, absoluteTimeout: 3_600_000 }, now: () => now });
    const request = credentialRequest(authzInput('app', '/', { headers: new Map([['cookie', `keycard_session=${value}`]]) }));
    for (let step = 0; step < 20; step++) {
      expect((await provider.find(request, SPEC)!.verify()).subject).toBe('alice');
      await new Promise((resolve) => setImmediate(resolve));
      now += 300;
    }
    expect((await store.session(id))?.lastSeenAt).toBe((START + 250 + 19 * 300) / 1000);
    now += 1000;
    expect((await denied(provider.find(request, SPEC)!.verify())).reason).toBe('session_expired');
  });

  it('a failed touch does not fail the request; it is reported and tried again on the next request', async () => {
    const { verify, advance, settle, store, id, touchErrors } = await setup();
    store.touchFailure = new Error('Redis touchSession failed: connection lost');
    advance(120_000);
    expect((await verify()).subject).toBe('alice');
    await settle();
    expect(touchErrors).toEqual([`${id}: Redis touchSession failed: connection lost`]);
    store.touchFailure = undefined;
    await verify();
    await settle();
    expect(store.touches).toHaveLength(2);
    expect((await store.session(id))?.lastSeenAt).toBe(SECONDS + 120);
  });

  it('is refused at the next request after logout (delete)', async () => {
    const { verify, store, id } = await setup();
    expect((await verify()).subject).toBe('alice');
    await store.deleteSession(id);
    expect(await denied(verify())).toMatchObject({ reason: 'invalid_session', detail: `no session ${id}` });
  });

  it('a failing store is store_unavailable (503)', async () => {
    const { value } = await setup();
    class BrokenStore extends MemoryStore {
      override readonly kind = 'broken';
      override session(): Promise<undefined> {
        return Promise.reject(new Error('Command timed out'));
      }
    }
    const provider = new SessionProvider({ store: new BrokenStore(), settings: SETTINGS });
    const found = provider.find(credentialRequest(authzInput('app', '/', { headers: new Map([['cookie', `keycard_session=${value}`]]) })), SPEC)!;
    expect(await denied(found.verify())).toMatchObject({ reason: 'store_unavailable', detail: 'broken store: Command timed out' });
  });
});
