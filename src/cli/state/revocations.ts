// `keycard revoke token | subject | session | list`: revocations in the store. Each entry expires
// once no token it could match can still be accepted, so the store does not grow without bound.
import type { Revocation } from '../../state/store.js';
import { applyChange, type ChangeResult } from './change.js';
import { StateCommandError, type StateContext } from './context.js';

// eslint-disable-next-line no-control-regex
const ID = /^[^\s\x00-\x1f\x7f]+$/;
const MAX_ID_LENGTH = 1024;
/** A compact JWS (`eyJ….….…`): what someone pastes by mistake instead of the token's jti. */
const COMPACT_JWT = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;

/**
 * When a revocation made at `nowMs` may be dropped (seconds since the epoch). The authenticator
 * accepts a token only while `now < exp + clockSkew`, and only if `exp − iat ≤ maxTokenLifetime`
 * and `exp ≤ now + maxTokenLifetime + clockSkew`. A token issued before the revocation with
 * `iat` is therefore dead by now + maxTokenLifetime + clockSkew; one without `iat` that could be
 * used at the time of the revocation has `exp ≤ now + maxTokenLifetime + clockSkew` and is dead
 * one clock skew later. Hence maxTokenLifetime + 2 × clockSkew.
 */
export function revocationExpiry(nowMs: number, jwt: StateContext['jwt']): number {
  return Math.ceil((nowMs + jwt.maxTokenLifetime + 2 * jwt.clockSkew) / 1000);
}

export async function revokeToken(context: StateContext, jti: string): Promise<ChangeResult> {
  const id = checkId(jti, 'jti', 'jti');
  return revoke(context, 'revoke.token', { kind: 'token', id, expiresAt: revocationExpiry(context.now(), context.jwt) }, `revoked token ${id}`);
}

export async function revokeSession(context: StateContext, sid: string): Promise<ChangeResult> {
  const id = checkId(sid, 'session id', 'sid');
  return revoke(context, 'revoke.session', { kind: 'session', id, expiresAt: revocationExpiry(context.now(), context.jwt) }, `revoked every token of session ${id}`);
}

/**
 * Revokes every token of `subject` issued before `beforeMs`. Left out, that is now: every token
 * issued up to and including the current second (`iat` has whole seconds, so a token issued
 * earlier in this second is caught too). A time in the future is refused: to keep a subject out,
 * revoke their roles.
 */
export async function revokeSubject(context: StateContext, subject: string, beforeMs?: number): Promise<ChangeResult> {
  const id = checkId(subject, 'subject', 'sub');
  const nowMs = context.now();
  if (beforeMs !== undefined && beforeMs > nowMs + context.jwt.clockSkew) {
    throw new StateCommandError(`--before ${iso(Math.ceil(beforeMs / 1000))} is in the future: a subject revocation covers tokens already issued (to keep ${id} out, revoke their roles)`);
  }
  const before = beforeMs === undefined ? Math.floor(nowMs / 1000) + 1 : Math.ceil(beforeMs / 1000);
  const revocation: Revocation = { kind: 'subject', id, before, expiresAt: revocationExpiry(nowMs, context.jwt) };
  return revoke(context, 'revoke.subject', revocation, `revoked every token of ${id} issued before ${iso(before)}`);
}

/** Revocations in force, sorted by kind and id. */
export async function listRevocations(context: StateContext): Promise<Revocation[]> {
  const revocations = [...(await context.store.listRevocations())];
  return revocations.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}

/** A revocation as printed and audited: times as ISO 8601. */
export function revocationTarget(revocation: Revocation): Record<string, string> {
  return {
    kind: revocation.kind,
    id: revocation.id,
    ...(revocation.before !== undefined && { before: iso(revocation.before) }),
    expires_at: iso(revocation.expiresAt),
  };
}

async function revoke(context: StateContext, action: 'revoke.token' | 'revoke.subject' | 'revoke.session', revocation: Revocation, what: string): Promise<ChangeResult> {
  return applyChange(context, {
    action,
    target: revocationTarget(revocation),
    changed: true,
    message: `${what} (the entry is kept until ${iso(revocation.expiresAt)})`,
    write: () => context.store.revoke(revocation),
  });
}

/** `claim`: the token claim that holds the value. */
function checkId(value: string, what: string, claim: string): string {
  // Never store or audit a credential: a pasted token is refused, not reduced to its claim.
  if (COMPACT_JWT.test(value)) throw new StateCommandError(`that is a token, not a ${what}: give the token's "${claim}" claim`);
  if (!ID.test(value) || value.length > MAX_ID_LENGTH) {
    throw new StateCommandError(`${what} "${value}" must be 1 to ${MAX_ID_LENGTH} characters without whitespace or control characters`);
  }
  return value;
}

/** Seconds since the epoch as ISO 8601 (UTC). */
export function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
