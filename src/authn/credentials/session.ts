// Session cookies resolved in the live store. A session ends at its absolute expiry (the record's
// expiresAt, and never later than createdAt + sessions.absoluteTimeout), after idleTimeout without
// use, or when it is deleted (logout: every replica refuses it at once through the change feed).
// Use is recorded (lastSeenAt) at most once per idleTimeout/10 per session, in the background: a
// failed touch is logged and never fails the request.
import { LRUCache } from 'lru-cache';
import type { SessionSettings } from '../../config/credential-settings.js';
import { DenyError } from '../../errors.js';
import type { ReadOptions, SessionRecord, StateStore } from '../../state/store.js';
import type { AuthenticatedIdentity } from '../identity.js';
import { SESSION_VALUE, sessionIdOf } from './session-format.js';
import { readStore } from '../../state/store-read.js';
import type { CredentialProvider, CredentialRequest, CredentialSpecOf, PresentedCredential } from './types.js';

export interface SessionProviderOptions {
  readonly store: StateStore;
  readonly settings: SessionSettings;
  /** Told of a touch that failed (for a log line); the session id is not a secret. */
  readonly onTouchError?: (error: Error, sessionId: string) => void;
  readonly now?: () => number;
  /** Sessions whose last touch this process remembers (bounds memory; default 100 000). */
  readonly maxTracked?: number;
}

export class SessionProvider implements CredentialProvider<'session'> {
  readonly kind = 'session';
  private readonly now: () => number;
  /** Touch at most this often per session (ms): idleTimeout/10. */
  private readonly touchIntervalMs: number;
  /** Session id → when this process last touched it (ms), so a burst of requests touches once. */
  private readonly touched: LRUCache<string, number>;

  constructor(private readonly options: SessionProviderOptions) {
    this.now = options.now ?? Date.now;
    this.touchIntervalMs = options.settings.idleTimeout / 10;
    this.touched = new LRUCache({ max: options.maxTracked ?? 100_000 });
  }

  find(request: CredentialRequest, spec: CredentialSpecOf<'session'>): PresentedCredential | undefined {
    const value = request.cookie(spec.cookie);
    if (value === undefined) return undefined;
    return { kind: 'session', carrier: `cookie:${spec.cookie}`, claim: 'certain', verify: () => this.verify(value, request.storeReads) };
  }

  private async verify(value: string, reads: ReadOptions): Promise<AuthenticatedIdentity> {
    if (!SESSION_VALUE.test(value)) throw new DenyError('invalid_session', `the session cookie is not 43 base64url characters (got ${Math.min(value.length, 9999)} characters)`);
    const id = sessionIdOf(value);
    const { store, settings } = this.options;
    const record = await readStore(store, () => store.session(id, reads));
    if (record === undefined) throw new DenyError('invalid_session', `no session ${id}`);
    const nowMs = this.now();
    const expiresAt = Math.min(record.expiresAt, record.createdAt + settings.absoluteTimeout / 1000);
    if (expiresAt * 1000 <= nowMs) throw new DenyError('session_expired', `session ${id} ended at ${iso(expiresAt)} (absolute timeout)`);
    const idleEnd = record.lastSeenAt * 1000 + settings.idleTimeout;
    if (idleEnd <= nowMs) throw new DenyError('session_expired', `session ${id} was idle since ${iso(record.lastSeenAt)} (idle timeout)`);
    this.touch(record, nowMs);
    return sessionIdentity(record, expiresAt);
  }

  /** Records use in the background, at most once per touch interval per session. */
  private touch(record: SessionRecord, nowMs: number): void {
    if (nowMs - record.lastSeenAt * 1000 < this.touchIntervalMs) return;
    const last = this.touched.get(record.id);
    if (last !== undefined && nowMs - last < this.touchIntervalMs) return;
    this.touched.set(record.id, nowMs);
    // To the millisecond: whole seconds would let a short idle timeout end a session in use.
    this.options.store.touchSession(record.id, Math.floor(nowMs) / 1000).catch((error: unknown) => {
      // Try again on the next request rather than waiting out the interval.
      this.touched.delete(record.id);
      this.options.onTouchError?.(error instanceof Error ? error : new Error(String(error)), record.id);
    });
  }
}

/** The caller a session stands for; `sid` is the session id, so `keycard revoke session` applies too. */
export function sessionIdentity(record: SessionRecord, expiresAt: number = record.expiresAt): AuthenticatedIdentity {
  const { claims } = record;
  return {
    authenticated: true,
    subject: record.subject,
    issuer: 'session',
    credential: 'session',
    claims: {
      sub: record.subject,
      sid: record.id,
      iat: record.createdAt,
      exp: expiresAt,
      ...(claims?.auth_time !== undefined && { auth_time: claims.auth_time }),
      ...(claims?.acr !== undefined && { acr: claims.acr }),
      ...(claims?.amr !== undefined && { amr: [...claims.amr] }),
    },
    expiresAt,
  };
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
