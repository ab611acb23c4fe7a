// `keycard sessions create | revoke | list`: sessions in the store. A new session's cookie value
// is printed once and never stored, audited or logged: the store knows the session by the SHA-256
// of the value (the session id), which is what list shows and revoke (logout) takes.
import { generateSession, SESSION_VALUE, sessionIdOf } from '../../authn/credentials/session-format.js';
import type { SessionRecord } from '../../state/store.js';
import { applyChange, type ChangeResult } from './change.js';
import { StateCommandError, type CredentialCommandSettings, type StateContext } from './context.js';
import { iso } from './revocations.js';

const MAX_SUBJECT_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const SUBJECT = /^[^\s\x00-\x1f\x7f]+$/;
/** acr and amr values: no "," (--amr is a comma-separated list). */
// eslint-disable-next-line no-control-regex
const TOKEN = /^[^\s,\x00-\x1f\x7f]+$/;

export interface NewSessionOptions {
  readonly subject: string;
  readonly acr?: string;
  readonly amr?: readonly string[];
}

export interface CreatedSession extends ChangeResult {
  readonly id: string;
  /** The cookie value: print it once, never keep it. */
  readonly value: string;
  readonly record: SessionRecord;
}

export async function createSession(context: StateContext, options: NewSessionOptions): Promise<CreatedSession> {
  const settings = sessionSettings(context);
  const subject = checkSubject(options.subject);
  if (options.acr !== undefined) checkToken('--acr', options.acr, 256);
  for (const method of options.amr ?? []) checkToken('--amr', method, 64);
  const { value, id } = generateSession();
  const now = Math.floor(context.now() / 1000);
  const record: SessionRecord = {
    id,
    subject,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + Math.ceil(settings.absoluteTimeout / 1000),
    claims: { auth_time: now, ...(options.acr !== undefined && { acr: options.acr }), ...(options.amr !== undefined && { amr: [...new Set(options.amr)] }) },
  };
  const result = await applyChange(context, {
    action: 'sessions.create',
    target: sessionTarget(record, settings),
    changed: true,
    message: `created session ${id} for ${subject} (ends ${iso(record.expiresAt)} at the latest, or after ${Math.round(settings.idleTimeout / 1000)}s idle)`,
    write: () => context.store.putSession(record),
  });
  return { ...result, id, value, record };
}

/** Logout: deletes the session, so every replica refuses its cookie from the next request on. */
export async function endSession(context: StateContext, id: string): Promise<ChangeResult> {
  if (!SESSION_VALUE.test(id)) throw new StateCommandError(id.length <= 64 && TOKEN.test(id) ? `session id "${id}" is not 43 base64url characters` : 'a session id is 43 base64url characters');
  const record = await context.store.session(id);
  // A cookie value has the same shape as an id: if this is one, say so rather than do nothing.
  if (record === undefined && (await context.store.session(sessionIdOf(id))) !== undefined) {
    throw new StateCommandError(`that is a session's cookie value, not its id: its id is ${sessionIdOf(id)}`);
  }
  return applyChange(context, {
    action: 'sessions.revoke',
    target: record === undefined ? { id } : { id, subject: record.subject },
    changed: record !== undefined,
    message: record === undefined ? `no session ${id}: nothing to revoke` : `ended session ${id} of ${record.subject}`,
    write: async () => void (await context.store.deleteSession(id)),
  });
}

export async function listSessions(context: StateContext, subject?: string): Promise<readonly SessionRecord[]> {
  return context.store.listSessions(subject === undefined ? undefined : checkSubject(subject));
}

/** When a session ends if it is not used again: its absolute end or its idle end, whichever is first. */
export function sessionEnd(record: SessionRecord, settings: CredentialCommandSettings['sessions']): number {
  return Math.min(record.expiresAt, record.createdAt + settings.absoluteTimeout / 1000, record.lastSeenAt + settings.idleTimeout / 1000);
}

/** A session as audited and listed. */
export function sessionTarget(record: SessionRecord, settings: CredentialCommandSettings['sessions']): Record<string, string> {
  const { claims } = record;
  return {
    id: record.id,
    subject: record.subject,
    created_at: iso(record.createdAt),
    last_seen_at: iso(record.lastSeenAt),
    expires_at: iso(record.expiresAt),
    ends_at: iso(sessionEnd(record, settings)),
    ...(claims?.acr !== undefined && { acr: claims.acr }),
    ...(claims?.amr !== undefined && { amr: claims.amr.join(',') }),
  };
}

export function sessionSettings(context: StateContext): CredentialCommandSettings['sessions'] {
  const settings = context.credentials?.sessions;
  if (settings === undefined) throw new StateCommandError('the session settings are not available to this command');
  return settings;
}

function checkSubject(subject: string): string {
  if (!SUBJECT.test(subject) || subject.length > MAX_SUBJECT_LENGTH) {
    throw new StateCommandError(`subject "${subject}" must be 1 to ${MAX_SUBJECT_LENGTH} characters without whitespace or control characters`);
  }
  return subject;
}

function checkToken(what: string, value: string, max: number): void {
  if (!TOKEN.test(value) || value.length > max) throw new StateCommandError(`${what} "${value}" must be 1 to ${max} characters without whitespace, "," or control characters`);
}
