// The release workflow end to end: a real keycard records real decisions in its audit log, then
// `keycard replay` decides them again under candidate policies and gates the release on whether
// anyone who was allowed would be denied.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check } from '../../src/protocol/check-client.js';
import { signToken } from '../helpers/keys.js';
import { runCli, serveKeycard, type CliRun } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml, type Workspace } from '../helpers/workspace.js';

/** A service recorded in dry-run: its would-be denials are allowed and recorded as dry_run_deny. */
const REPORTS_POLICY = `
service: reports
mode: dry-run
rules:
  - id: staff
    effect: allow
    match: { methods: [GET], paths: ["/reports/**"] }
    when: [{ role: support }]
`;

const STATUS_RULE = `  - id: status
    effect: allow
    match: { methods: [GET], paths: [/status] }
    anonymous: true
`;

/** Tightens orders (customers lose `read`, refunds are switched off), opens /status, enforces reports. */
const TIGHTENING = {
  orders: `${ORDERS_POLICY.replace('when: [{ role: [customer, support] }]', 'when: [{ role: [support] }]')}${STATUS_RULE}  - id: no-refunds
    effect: deny
    match: { methods: [POST], paths: ["/orders/{id}/refund"] }
`,
  reports: REPORTS_POLICY.replace('mode: dry-run', 'mode: enforce'),
};

/** Only widens: opens /status and lets customers ask for refunds; reports stays in dry-run. */
const WIDENING = {
  orders: `${ORDERS_POLICY.replace('when: [{ role: finance }]', 'when: [{ role: [finance, customer] }]')}${STATUS_RULE}`,
  reports: REPORTS_POLICY,
};

interface JsonReport {
  totals: Record<string, number>;
  changes: {
    direction: string;
    service: string;
    before: { decision: string; rule?: string; reason: string };
    after: { decision: string; rule?: string; reason: string };
    count: number;
    examples: { subject?: string; method: string; path: string }[];
  }[];
  skipped: { reason: string; count: number }[];
}

let workspace: Workspace;

beforeAll(async () => {
  const served = await serveKeycard(settingsYaml(), { 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY, 'policies/reports.yaml': REPORTS_POLICY });
  const { key, keycard, client } = served;
  workspace = served.workspace;
  const bearer = async (sub: string, expiresIn?: number) => ({ authorization: `Bearer ${await signToken(key, { sub, ...(expiresIn !== undefined && { expiresIn }) })}` });
  const send = async (service: string, method: string, path: string, headers: Record<string, string> = {}) => {
    const response = await check(client, buildCheckRequest({ service, method, path, headers }));
    return response.status?.code === 0 ? 'allow' : 'deny';
  };
  try {
    const alice = await bearer('alice');
    const sam = await bearer('sam');
    const fiona = await bearer('fiona');
    const sent = [
      ...(await Promise.all(['/orders/1', '/orders/2', '/orders/3'].map((path) => send('orders', 'GET', path, alice)))),
      await send('orders', 'GET', '/orders/4', sam),
      await send('orders', 'POST', '/orders/5/refund', fiona),
      await send('orders', 'POST', '/orders/6/refund', fiona),
      await send('orders', 'POST', '/orders/7/refund', alice),
      await send('orders', 'GET', '/healthz'),
      await send('orders', 'GET', '/status'),
      await send('orders', 'GET', '/status'),
      await send('orders', 'GET', '/v1/orders', alice),
      await send('reports', 'GET', '/reports/q1', alice),
      await send('reports', 'GET', '/reports/q2', alice),
      await send('reports', 'GET', '/reports/q1', sam),
      await send('orders', 'GET', '/orders/1', await bearer('alice', -3600)),
      await send('nope', 'GET', '/x', alice),
    ];
    // What the running policy decided: the baseline the replays are compared with.
    expect(sent).toEqual(['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny', 'allow', 'deny', 'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'deny']);
  } finally {
    client.close();
    // SIGTERM flushes the audit log before keycard exits.
    expect(await keycard.stop('SIGTERM')).toBe(0);
  }
  workspace.write('tightening/orders.yaml', TIGHTENING.orders);
  workspace.write('tightening/reports.yaml', TIGHTENING.reports);
  workspace.write('widening/orders.yaml', WIDENING.orders);
  workspace.write('widening/reports.yaml', WIDENING.reports);
}, 30_000);

afterAll(() => workspace?.remove());

function replay(candidate: string, format = 'json'): Promise<CliRun> {
  return runCli(['replay', '--audit', workspace.path('audit.log'), '--policies', workspace.path(candidate), '--config', workspace.path('keycard.yaml'), '--format', format]);
}

describe('the audit log keycard wrote', () => {
  it('has one decision line per Check, each with what replay needs and no token', () => {
    const text = readFileSync(workspace.path('audit.log'), 'utf8');
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(16);
    expect(lines.every((line) => line.type === 'decision' && typeof line.time === 'string' && typeof line.input === 'object')).toBe(true);
    expect(text).not.toMatch(/Bearer|eyJ/);
    expect(lines.filter((line) => line.decision === 'dry_run_deny')).toHaveLength(2);
  });
});

describe('keycard replay', () => {
  it('replays the recorded traffic under the running policies with no change', async () => {
    workspace.write('same/orders.yaml', ORDERS_POLICY);
    workspace.write('same/reports.yaml', REPORTS_POLICY);
    const run = await replay('same');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.totals).toMatchObject({ lines: 16, decisions: 16, replayed: 14, unchanged: 14, allow_to_deny: 0, deny_to_allow: 0, rule_change: 0, skipped: 2 });
    expect(report.changes).toEqual([]);
  });

  it('reports exactly the decisions a tightening candidate changes, and exits 1', async () => {
    const run = await replay('tightening');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.totals).toEqual({
      lines: 16,
      other: 0,
      decisions: 16,
      replayed: 14,
      unchanged: 4,
      allow_to_deny: 7,
      deny_to_allow: 2,
      rule_change: 1,
      skipped: 2,
    });
    const summary = report.changes.map((group) => [group.direction, group.service, group.before.rule ?? null, group.before.decision, group.after.rule ?? null, group.after.reason, group.count]);
    expect(summary).toEqual([
      ['allow_to_deny', 'orders', 'read', 'allow', null, 'no_matching_rule', 3],
      ['allow_to_deny', 'orders', 'refund', 'allow', 'no-refunds', 'explicit_deny', 2],
      ['allow_to_deny', 'reports', null, 'dry_run_deny', null, 'no_matching_rule', 2],
      ['deny_to_allow', 'orders', null, 'deny', 'status', 'allowed', 2],
    ]);
    expect(report.changes[0]!.examples.map((example) => `${example.subject} ${example.method} ${example.path}`).sort()).toEqual([
      'alice GET /orders/1',
      'alice GET /orders/2',
      'alice GET /orders/3',
    ]);
    expect(report.changes[3]!.before.reason).toBe('authentication_required');
    expect(report.skipped).toEqual([
      { reason: 'authentication_failed', count: 1, examples: [{ line: expect.any(Number), detail: 'token_expired' }] },
      { reason: 'not_routed', count: 1, examples: [{ line: expect.any(Number), detail: 'unknown_service' }] },
    ]);
  });

  it('lists same-answer rule changes with --rule-changes, and says FAIL in text', async () => {
    const run = await runCli([
      'replay', '--audit', workspace.path('audit.log'), '--policies', workspace.path('tightening'), '--config', workspace.path('keycard.yaml'), '--rule-changes',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('16 decisions: 14 replayed, 4 unchanged, 7 allow → deny, 2 deny → allow, 1 rule/reason changes, 2 skipped');
    expect(run.stdout).toContain('same answer, another rule or reason: 1\n  orders: no rule (deny: no_matching_rule) → no-refunds (deny: explicit_deny): 1\n      line ');
    expect(run.stdout).toContain('  orders: read (allow) → no rule (deny: no_matching_rule): 3');
    expect(run.stdout).toContain('  reports: no rule (dry_run_deny) → no rule (deny: no_matching_rule): 2');
    expect(run.stdout).toContain('FAIL: 7 allowed requests would be denied');
  });

  it('exits 0 for a candidate that only widens access, and lists what it opens', async () => {
    const run = await replay('widening');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.totals).toMatchObject({ replayed: 14, unchanged: 11, allow_to_deny: 0, deny_to_allow: 3, rule_change: 0, skipped: 2 });
    expect(report.changes.map((group) => [group.direction, group.service, group.before.reason, group.after.rule, group.count])).toEqual([
      ['deny_to_allow', 'orders', 'authentication_required', 'status', 2],
      ['deny_to_allow', 'orders', 'no_matching_rule', 'refund', 1],
    ]);
  });

  it('exits 2 and prints the located errors when the candidate is invalid', async () => {
    workspace.write('broken/orders.yaml', ORDERS_POLICY.replace('effect: deny', 'effect: forbid'));
    const run = await replay('broken');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/orders\.yaml:\d+:\d+ \[invalid_value\] rules\[3\]\.effect/);
    expect(run.stdout).toBe('');
  });
});
