// The audit log's lines: pino's shape (level and time first, the record's fields, msg last) for
// every record type, values escaped as JSON, and undefined fields left out.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuthzInput, Decision } from '../../src/pipeline/types.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
afterEach(() => workspace?.remove());

const DECISION: Decision = {
  id: 'd-1',
  allowed: false,
  reason: 'no_matching_rule',
  status: 403,
  service: 'orders',
  policyVersion: 'v1',
  identity: { authenticated: true, subject: 'al"ice\n', issuer: 'idp', credential: 'jwt', claims: {}, authTime: undefined },
  roles: ['reader'],
  forwardIdentity: false,
  trace: [],
  path: '/orders/42',
  durationMs: 0.0123456,
  phaseMs: {},
} as unknown as Decision;

const INPUT: AuthzInput = { method: 'GET', host: 'orders', path: '/orders/42?x=1', headers: new Map(), source: { address: '10.0.0.1' }, contextExtensions: {}, requestId: 'r-1' };

async function linesOf(write: (audit: AuditLog) => void): Promise<{ text: string; record: Record<string, unknown> }[]> {
  workspace = new Workspace();
  const file = workspace.path('audit.log');
  const audit = new AuditLog({ output: file });
  write(audit);
  await audit.close();
  return readFileSync(file, 'utf8').trimEnd().split('\n').map((text) => ({ text, record: JSON.parse(text) as Record<string, unknown> }));
}

describe('AuditLog lines', () => {
  it('are one JSON object per record: level, time and type first, msg last, undefined fields left out', async () => {
    const lines = await linesOf((audit) => {
      audit.decision(DECISION, INPUT);
      audit.accessDecision(DECISION, { subject: { type: 'user', id: 'alice' }, action: { name: 'read' }, resource: { type: 'order', id: '42' } });
      audit.stateChange({ actor: 'ops', action: 'revoke.token', target: { kind: 'token', id: 'j' }, store: 'memory' });
      audit.shadowDisagreement({
        decision: DECISION,
        input: INPUT,
        enforced: { decision: 'deny', reason: 'no_matching_rule', rule: undefined },
        shadow: { decision: 'allow', reason: 'allowed', rule: 'r1', service: 'orders', policyVersion: 'v2', detail: undefined },
      });
    });
    expect(lines.map(({ record }) => record.type)).toEqual(['decision', 'access_decision', 'state_change', 'shadow_disagreement']);
    for (const { text, record } of lines) {
      const keys = Object.keys(record);
      expect(keys.slice(0, 3)).toEqual(['level', 'time', 'type']);
      expect(keys.at(-1)).toBe('msg');
      expect(record.msg).toBe(record.type);
      expect(record.level).toBe(30);
      expect(new Date(record.time as string).toISOString()).toBe(record.time);
      expect(text).not.toContain('undefined');
    }
    const [decision, access, change, shadow] = lines.map(({ record }) => record);
    expect(decision).toMatchObject({ decision_id: 'd-1', request_id: 'r-1', service: 'orders', path: '/orders/42', subject: 'al"ice\n', decision: 'deny', latency_ms: 0.012 });
    expect(decision).not.toHaveProperty('rule');
    expect(access).toMatchObject({ subject_type: 'user', subject: 'alice', action: 'read', resource_type: 'order', resource_id: '42' });
    expect(change).toEqual({ level: 30, time: change!.time, type: 'state_change', actor: 'ops', action: 'revoke.token', target: { kind: 'token', id: 'j' }, store: 'memory', msg: 'state_change' });
    expect(shadow).toMatchObject({ decision_id: 'd-1', method: 'GET', path: '/orders/42', enforced: { decision: 'deny' }, shadow: { decision: 'allow', rule: 'r1', policy_version: 'v2' } });
  });
});
