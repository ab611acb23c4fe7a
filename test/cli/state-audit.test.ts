// Every state change writes one `state_change` line (time, actor, action, target, store) to the
// audit output, through the real AuditLog, written out by close(); reads write nothing.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { revokeSession, revokeSubject, revokeToken, listRevocations } from '../../src/cli/state/revocations.js';
import { grantRole, listRoles, revokeRole } from '../../src/cli/state/roles.js';
import { addTuple, checkTuple, listTuples, removeTuple } from '../../src/cli/state/tuples.js';
import { stateFixture, type StateFixture } from './state-fixture.js';

let fixture: StateFixture;
beforeAll(async () => {
  fixture = await stateFixture();
});
afterAll(() => fixture.close());

function auditLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('audit of state changes', () => {
  it('writes one state_change line per change, with actor, action, target and store', async () => {
    const file = fixture.workspace.path('audit/state.jsonl');
    const audit = new AuditLog({ output: file });
    const context = fixture.context({ actor: 'ops-alice', audit });
    const token = await fixture.token('alice', { jti: 'jti-audit' });
    const started = Date.now();

    await grantRole(context, { subject: 'bob', role: 'finance', service: 'orders' });
    await revokeRole(context, { subject: 'bob', role: 'finance', service: 'orders' });
    await revokeToken(context, 'jti-audit');
    await revokeSubject(context, 'mallory', Date.parse('2026-01-01T00:00:00Z'));
    await revokeSession(context, 'sid-audit');
    await addTuple(context, 'order:88#owner@user:bob');
    await removeTuple(context, 'order:88#owner@user:bob');
    await audit.close();

    const lines = auditLines(file);
    expect(lines.map((line) => line.action)).toEqual(['roles.grant', 'roles.revoke', 'revoke.token', 'revoke.subject', 'revoke.session', 'tuples.add', 'tuples.remove']);
    for (const line of lines) {
      expect(line).toMatchObject({ type: 'state_change', actor: 'ops-alice', store: 'memory' });
      expect(Date.parse(line.time as string)).toBeGreaterThanOrEqual(started - 1000);
    }
    expect(lines[0]!.target).toEqual({ subject: 'bob', role: 'finance', service: 'orders' });
    expect(lines[2]!.target).toEqual({ kind: 'token', id: 'jti-audit', expires_at: expect.stringMatching(/Z$/) });
    expect(lines[3]!.target).toEqual({ kind: 'subject', id: 'mallory', before: '2026-01-01T00:00:00Z', expires_at: expect.stringMatching(/Z$/) });
    expect(lines[4]!.target).toEqual({ kind: 'session', id: 'sid-audit', expires_at: expect.stringMatching(/Z$/) });
    expect(lines[5]!.target).toEqual({ object: 'order:88', relation: 'owner', subject: 'user:bob' });
    // The token's jti is recorded, never the token.
    expect(readFileSync(file, 'utf8')).not.toContain(token.split('.')[1]!);
  });

  it('writes nothing for lists and checks', async () => {
    const file = fixture.workspace.path('audit/reads.jsonl');
    const audit = new AuditLog({ output: file });
    const context = fixture.context({ audit });
    await listRoles(context);
    await listRevocations(context);
    await listTuples(context);
    await checkTuple(context, 'order:42#viewer@user:alice');
    await audit.close();
    expect(existsSync(file) ? readFileSync(file, 'utf8') : '').toBe('');
  });

  it('close() writes out a line even when the file was still being opened, and may be called twice', async () => {
    const file = fixture.workspace.path('audit/fresh/dir/once.jsonl');
    const audit = new AuditLog({ output: file });
    audit.stateChange({ actor: 'ops', action: 'revoke.token', target: { kind: 'token', id: 'j' }, store: 'memory' });
    await Promise.all([audit.close(), audit.close()]);
    expect(auditLines(file)).toEqual([expect.objectContaining({ type: 'state_change', action: 'revoke.token', target: { kind: 'token', id: 'j' } })]);
  });
});
