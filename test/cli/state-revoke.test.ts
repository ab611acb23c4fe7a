// `keycard revoke token | subject | session | list` against the memory store of an in-process
// keycard: a revoked token is denied by the next decision (token_revoked), and each entry expires
// once no token it could match can still be accepted.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { revokeCommand } from '../../src/cli/state/command.js';
import { StateCommandError } from '../../src/cli/state/context.js';
import { revocationsOutput } from '../../src/cli/state/render.js';
import { listRevocations, revocationExpiry, revokeSession, revokeSubject, revokeToken } from '../../src/cli/state/revocations.js';
import { UsageError } from '../../src/cli/usage.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { HOUR_MS, stateFixture, type StateFixture } from './state-fixture.js';

let fixture: StateFixture;
beforeAll(async () => {
  fixture = await stateFixture();
});
afterAll(() => fixture.close());
beforeEach(() => {
  fixture.audited.length = 0;
});

const read = (fixtureToken: string) => fixture.decide('orders', '/orders/42', fixtureToken);
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('revocation expiry', () => {
  it('is maxTokenLifetime plus twice the clock skew after the revocation, rounded up to a second', () => {
    const jwt = { maxTokenLifetime: HOUR_MS, clockSkew: 30_000 };
    expect(revocationExpiry(1_700_000_000_000, jwt)).toBe(1_700_000_000 + 3600 + 60);
    expect(revocationExpiry(1_700_000_000_001, jwt)).toBe(1_700_000_000 + 3600 + 61);
  });
});

describe('keycard revoke token', () => {
  it('denies the token with that jti at the next decision, and no other token', async () => {
    const revoked = await fixture.token('alice', { jti: 'jti-1' });
    const other = await fixture.token('alice', { jti: 'jti-2' });
    expect((await read(revoked)).allowed).toBe(true);

    const now = Date.now();
    const result = await revokeToken(fixture.context({ now: () => now }), 'jti-1');
    const expiresAt = revocationExpiry(now, { maxTokenLifetime: HOUR_MS, clockSkew: 30_000 });
    expect(result).toMatchObject({ action: 'revoke.token', changed: true, target: { kind: 'token', id: 'jti-1', expires_at: new Date(expiresAt * 1000).toISOString().replace('.000Z', 'Z') } });
    expect(result.message).toMatch(/^revoked token jti-1 \(the entry is kept until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);

    expect(await read(revoked)).toMatchObject({ allowed: false, status: 401, reason: 'token_revoked', detail: 'token jti-1 revoked' });
    expect((await read(other)).allowed).toBe(true);
    expect(await fixture.context().store.revocationFor({ subject: 'alice', jti: 'jti-1' })).toEqual({ kind: 'token', id: 'jti-1', expiresAt });
    expect(fixture.audited).toEqual([{ actor: 'ops', action: 'revoke.token', target: result.target, store: 'memory' }]);
  });

  it('refuses a pasted token instead of its jti, and never stores or audits it', async () => {
    const token = await fixture.token('alice', { jti: 'jti-pasted' });
    const context = fixture.context();
    const before = await listRevocations(context);
    await expect(revokeToken(context, token)).rejects.toThrow(new StateCommandError('that is a token, not a jti: give the token\'s "jti" claim'));
    await expect(revokeSession(context, token)).rejects.toThrow('that is a token, not a session id: give the token\'s "sid" claim');
    await expect(revokeSubject(context, token)).rejects.toThrow('that is a token, not a subject: give the token\'s "sub" claim');
    await expect(revokeToken(context, 'two words')).rejects.toThrow('jti "two words" must be 1 to 1024 characters without whitespace or control characters');
    expect(await listRevocations(context)).toEqual(before);
    expect(fixture.audited).toEqual([]);
  });
});

describe('keycard revoke session', () => {
  it('denies every token carrying that sid', async () => {
    const inSession = await fixture.token('sam', { sid: 'session-7' });
    const elsewhere = await fixture.token('sam', { sid: 'session-8' });
    await revokeSession(fixture.context(), 'session-7');
    expect((await read(inSession)).reason).toBe('token_revoked');
    expect((await read(elsewhere)).allowed).toBe(true);
    expect(fixture.audited).toEqual([{ actor: 'ops', action: 'revoke.session', target: expect.objectContaining({ kind: 'session', id: 'session-7' }), store: 'memory' }]);
  });
});

describe('keycard revoke subject', () => {
  it('by default revokes every token issued up to now, this second included, and none issued later', async () => {
    // The revocation happens "5 seconds ago", so tokens issued now come after it.
    const at = Date.now() - 5_000;
    const atSecond = Math.floor(at / 1000);
    const tokens = {
      earlier: await fixture.token('alice', { iat: atSecond - 60 }),
      sameSecond: await fixture.token('alice', { iat: atSecond }),
      withoutIat: await fixture.token('alice', { iat: null }),
      later: await fixture.token('alice'),
    };
    const result = await revokeSubject(fixture.context({ now: () => at }), 'alice');
    expect(result.target).toMatchObject({ kind: 'subject', id: 'alice', before: new Date((atSecond + 1) * 1000).toISOString().replace('.000Z', 'Z') });
    expect(result.message).toMatch(/^revoked every token of alice issued before \S+Z \(the entry is kept until \S+Z\)$/);

    expect((await read(tokens.earlier)).reason).toBe('token_revoked');
    expect((await read(tokens.sameSecond)).reason).toBe('token_revoked');
    expect((await read(tokens.withoutIat)).reason).toBe('token_revoked');
    expect((await read(tokens.later)).allowed).toBe(true);
    // Other subjects are untouched.
    expect((await read(await fixture.token('sam', { iat: atSecond - 60 }))).allowed).toBe(true);
  });

  it('with --before revokes the tokens issued before that time only', async () => {
    const before = Date.now() - 20 * 60_000;
    await revokeSubject(fixture.context(), 'sam', before);
    expect((await read(await fixture.token('sam', { iat: nowSeconds() - 30 * 60 }))).reason).toBe('token_revoked');
    expect((await read(await fixture.token('sam', { iat: nowSeconds() - 10 * 60 }))).allowed).toBe(true);
    expect(fixture.audited).toEqual([
      { actor: 'ops', action: 'revoke.subject', target: expect.objectContaining({ kind: 'subject', id: 'sam', before: new Date(Math.ceil(before / 1000) * 1000).toISOString().replace('.000Z', 'Z') }), store: 'memory' },
    ]);
  });

  it('refuses a --before in the future (beyond the clock skew)', async () => {
    const context = fixture.context();
    await expect(revokeSubject(context, 'fiona', Date.now() + 3_600_000)).rejects.toThrow(/^--before \S+ is in the future: a subject revocation covers tokens already issued \(to keep fiona out, revoke their roles\)$/);
    await revokeSubject(context, 'fiona', Date.now() + 10_000);
    expect(fixture.audited.map((change) => change.action)).toEqual(['revoke.subject']);
  });

  it('parses --before as "now" or an ISO 8601 instant, and only for revoke subject', async () => {
    await expect(revokeCommand(['subject', 'alice', '--before', 'yesterday'])).rejects.toThrow(
      new UsageError('--before: "yesterday" is not "now" or an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z'),
    );
    await expect(revokeCommand(['token', 'jti-1', '--before', 'now'])).rejects.toThrow(new UsageError('revoke: --before is for revoke subject'));
    await expect(revokeCommand(['subject'])).rejects.toThrow(new UsageError('revoke subject SUBJECT: got no arguments'));
    await expect(revokeCommand(['everything'])).rejects.toThrow(new UsageError('revoke: unknown kind "everything"; token, subject, session or list'));
  });
});

describe('keycard revoke list', () => {
  it('lists the revocations in force, sorted, with ISO times; expired entries are gone', async () => {
    let clock = Date.parse('2026-03-01T12:00:00Z');
    const store = new MemoryStore([], [], () => clock);
    const context = fixture.context({ store, now: () => clock });
    await revokeToken(context, 'jti-9');
    await revokeSubject(context, 'alice', Date.parse('2026-03-01T11:00:00Z'));
    await revokeSession(context, 'sid-1');
    const listed = revocationsOutput(await listRevocations(context));
    expect(listed.text.split('\n')).toEqual([
      'session  sid-1  expires 2026-03-01T13:01:00Z',
      'subject  alice  expires 2026-03-01T13:01:00Z  issued before 2026-03-01T11:00:00Z',
      'token    jti-9  expires 2026-03-01T13:01:00Z',
    ]);
    expect(listed.json).toEqual({
      revocations: [
        { kind: 'session', id: 'sid-1', expires_at: '2026-03-01T13:01:00Z' },
        { kind: 'subject', id: 'alice', before: '2026-03-01T11:00:00Z', expires_at: '2026-03-01T13:01:00Z' },
        { kind: 'token', id: 'jti-9', expires_at: '2026-03-01T13:01:00Z' },
      ],
    });
    clock = Date.parse('2026-03-01T13:01:00Z');
    expect(revocationsOutput(await listRevocations(context))).toEqual({ code: 0, text: 'no revocations in force', json: { revocations: [] } });
  });
});
