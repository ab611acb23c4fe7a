// `keycard replay`: recorded decisions decided again under a candidate policy set, grouped by
// direction, service and old/new rule; lines that cannot be replayed are skipped with a reason.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { replayCommand } from '../../src/cli/replay.js';
import { UsageError } from '../../src/cli/usage.js';
import type { AuthzInput } from '../../src/pipeline/types.js';
import { cidrBlockList } from '../../src/policy/conditions/source-cidr.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { jsonReport, textReport } from '../../src/replay/format.js';
import { Replay, replayLines, type ReplayDeps, type ReplayReport } from '../../src/replay/replay.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { pipelineWith } from '../helpers/pipeline.js';
import { compileYaml, user } from '../helpers/policy.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

const NO_RELATIONS = { check: async () => ({ ok: false, detail: 'no relations in this test' }) };

/** A policy whose conditions read a claim, a header, the time and the client address. */
const ADMIN_POLICY = `
service: admin
rules:
  - id: acme-staff
    effect: allow
    match: { methods: [GET], paths: ["/tenants/**"] }
    when: [{ claim: { name: org, equals: acme } }, { header: { name: x-tenant, present: true } }]
  - id: office-hours
    effect: allow
    match: { methods: [POST], paths: [/jobs] }
    when: [{ timeWindow: { days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", timeZone: UTC } }]
  - id: from-office
    effect: allow
    match: { methods: [GET], paths: [/office] }
    when: [{ sourceCidr: 10.1.0.0/16 }]
`;

function deps(policies: string[], extra: Partial<ReplayDeps> = {}): ReplayDeps {
  return { policies: new PolicySet(policies.map((text) => compileYaml(text)), 'candidate'), store: new MemoryStore(), relations: NO_RELATIONS, ...extra };
}

interface LineSpec {
  service?: string;
  subject?: string;
  roles?: string[];
  decision?: 'allow' | 'deny' | 'dry_run_deny';
  reason?: string;
  rule?: string;
  method?: string;
  path?: string;
  time?: string;
  headers?: Record<string, string>;
  claims?: Record<string, unknown>;
  absent?: { claims?: string[]; headers?: string[] };
  source?: string;
  peer?: string;
}

/** An audit line as AuditLog writes it (only the fields replay reads, plus a few others). */
function auditLine(spec: LineSpec): string {
  const service = 'service' in spec ? spec.service : 'orders';
  const subject = spec.subject;
  return JSON.stringify({
    level: 30,
    time: spec.time ?? '2026-11-23T10:00:00.000Z',
    type: 'decision',
    decision_id: 'd-1',
    service,
    method: spec.method ?? 'GET',
    path: spec.path ?? '/orders/1',
    subject,
    issuer: subject === undefined ? undefined : 'test-idp',
    roles: spec.roles ?? [],
    ...(spec.peer !== undefined && { peer: spec.peer }),
    decision: spec.decision ?? 'allow',
    status: spec.decision === 'deny' ? 403 : 200,
    reason: spec.reason ?? 'allowed',
    rule: spec.rule,
    input: {
      method: spec.method ?? 'GET',
      host: 'localhost',
      path: spec.path ?? '/orders/1',
      service,
      source: spec.source ?? '127.0.0.1',
      headers: spec.headers ?? {},
      ...(subject !== undefined && { claims: spec.claims ?? {} }),
      ...(spec.absent && { absent: spec.absent }),
    },
    msg: 'decision',
  });
}

async function* linesOf(...lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

const replay = (replayDeps: ReplayDeps, ...lines: string[]) => replayLines(linesOf(...lines), replayDeps);

const changes = (report: ReplayReport) =>
  report.changes.map((group) => `${group.direction} ${group.service}: ${group.before.rule ?? '-'}/${group.before.reason} → ${group.after.rule ?? '-'}/${group.after.reason} ×${group.count}`);

describe('Replay', () => {
  it('decides again with the mTLS peer the audit line recorded, so principal: conditions replay', async () => {
    const ledger = `
service: ledger
rules:
  - id: from-checkout
    effect: allow
    match: { methods: [POST], paths: [/entries] }
    when: [{ principal: "spiffe://cluster.local/ns/shop/sa/checkout" }]
`;
    const line = (peer?: string) =>
      auditLine({ service: 'ledger', subject: 'alice', rule: 'from-checkout', method: 'POST', path: '/entries', ...(peer !== undefined && { peer }) });
    const report = await replay(deps([ledger]), line('spiffe://cluster.local/ns/shop/sa/checkout'), line('spiffe://cluster.local/ns/shop/sa/cart'), line());
    expect(report.totals).toMatchObject({ replayed: 3, unchanged: 1, allow_to_deny: 2 });
  });

  const orders = [ORDERS_POLICY];
  const tightened = [ORDERS_POLICY.replace('when: [{ role: [customer, support] }]', 'when: [{ role: support }]')];

  it('counts unchanged decisions and groups changed ones by direction, service and old/new rule', async () => {
    const alice = { subject: 'alice', roles: ['customer'] };
    const report = await replay(
      deps(tightened),
      auditLine({ ...alice, rule: 'read', path: '/orders/1' }),
      auditLine({ ...alice, rule: 'read', path: '/orders/2' }),
      auditLine({ subject: 'sam', roles: ['support'], rule: 'read', path: '/orders/3' }),
      auditLine({ ...alice, decision: 'deny', reason: 'no_matching_rule', method: 'POST', path: '/orders/1/refund' }),
    );
    expect(report.totals).toEqual({
      lines: 4,
      other: 0,
      decisions: 4,
      replayed: 4,
      unchanged: 2,
      allow_to_deny: 2,
      deny_to_allow: 0,
      rule_change: 0,
      skipped: 0,
    });
    expect(changes(report)).toEqual(['allow_to_deny orders: read/allowed → -/no_matching_rule ×2']);
    expect(report.changes[0]!.before).toEqual({ service: 'orders', decision: 'allow', rule: 'read', reason: 'allowed' });
    expect(report.changes[0]!.after).toEqual({ service: 'orders', decision: 'deny', reason: 'no_matching_rule' });
    expect(report.changes[0]!.examples).toEqual([
      { line: 1, decisionId: 'd-1', time: '2026-11-23T10:00:00.000Z', subject: 'alice', method: 'GET', path: '/orders/1' },
      { line: 2, decisionId: 'd-1', time: '2026-11-23T10:00:00.000Z', subject: 'alice', method: 'GET', path: '/orders/2' },
    ]);
  });

  it('decides with the recorded roles, not the store', async () => {
    const store = new MemoryStore([{ subject: 'alice', role: 'support' }]);
    const report = await replay(deps(tightened, { store }), auditLine({ subject: 'alice', roles: ['customer'], rule: 'read' }));
    expect(report.totals.allow_to_deny).toBe(1);
  });

  it('separates deny → allow and same-answer rule or reason changes', async () => {
    const candidate = [
      `${ORDERS_POLICY}  - { id: refunds-off, effect: deny, match: { paths: ["/orders/{id}/refund"] } }\n  - { id: status, effect: allow, match: { paths: [/status] }, anonymous: true }\n`,
    ];
    const report = await replay(
      deps(candidate),
      auditLine({ decision: 'deny', reason: 'authentication_required', path: '/status' }),
      auditLine({ subject: 'alice', roles: ['customer'], decision: 'deny', reason: 'no_matching_rule', method: 'POST', path: '/orders/1/refund' }),
      auditLine({ subject: 'sam', roles: ['support'], decision: 'deny', reason: 'no_matching_rule', path: '/reports' }),
    );
    // (sam's line says "denied", though support-all allows it: replay reports what the candidate decides.)
    expect(changes(report)).toEqual([
      'deny_to_allow orders: -/authentication_required → status/allowed ×1',
      'deny_to_allow orders: -/no_matching_rule → support-all/allowed ×1',
      'rule_change orders: -/no_matching_rule → refunds-off/explicit_deny ×1',
    ]);
    expect(report.totals).toMatchObject({ replayed: 3, unchanged: 0, deny_to_allow: 2, rule_change: 1, allow_to_deny: 0 });
  });

  it('treats a recorded dry-run deny as allowed, and a candidate dry-run deny as allowed too', async () => {
    const beta = (mode: string) => `service: beta\nmode: ${mode}\nrules:\n  - { id: staff, effect: allow, when: [{ role: support }] }\n`;
    const recorded = auditLine({ service: 'beta', subject: 'alice', roles: ['customer'], decision: 'dry_run_deny', reason: 'allowed', path: '/x' });
    const enforced = await replay(deps([beta('enforce')]), recorded);
    expect(changes(enforced)).toEqual(['allow_to_deny beta: -/allowed → -/no_matching_rule ×1']);
    expect(enforced.changes[0]!.before.decision).toBe('dry_run_deny');
    const stillDryRun = await replay(deps([beta('dry-run')]), recorded);
    expect(stillDryRun.totals).toMatchObject({ unchanged: 1, allow_to_deny: 0 });
  });

  it('decides with the recorded claims, headers, time and client address', async () => {
    const staff = { service: 'admin', subject: 'ann', rule: 'acme-staff', path: '/tenants/1' };
    // The service's policy reads org and x-tenant, so its lines say when they were absent.
    const other = { service: 'admin', subject: 'ann', absent: { claims: ['org'], headers: ['x-tenant'] } };
    const report = await replay(
      deps([ADMIN_POLICY]),
      auditLine({ ...staff, claims: { org: 'acme' }, headers: { 'x-tenant': 't1' } }),
      auditLine({ ...staff, claims: { org: 'globex' }, headers: { 'x-tenant': 't1' } }),
      auditLine({ ...staff, claims: { org: 'acme' }, absent: { headers: ['x-tenant'] } }),
      // Monday 10:00 UTC is inside the window, Sunday is not.
      auditLine({ ...other, rule: 'office-hours', method: 'POST', path: '/jobs', time: '2026-11-23T10:00:00Z' }),
      auditLine({ ...other, rule: 'office-hours', method: 'POST', path: '/jobs', time: '2026-11-22T10:00:00Z' }),
      auditLine({ ...other, rule: 'from-office', path: '/office', source: '10.1.2.3' }),
      auditLine({ ...other, rule: 'from-office', path: '/office', source: '192.0.2.1' }),
    );
    expect(report.totals).toMatchObject({ replayed: 7, unchanged: 3, allow_to_deny: 4 });
    const linesByRule = report.changes.map((group) => [group.before.rule, group.after.reason, group.examples.map((example) => example.line)]);
    expect(linesByRule).toEqual([
      ['acme-staff', 'no_matching_rule', [2, 3]],
      ['from-office', 'no_matching_rule', [7]],
      ['office-hours', 'no_matching_rule', [5]],
    ]);
  });

  it('believes x-forwarded-for only from the trusted proxies of the settings', async () => {
    const absent = { claims: ['org'], headers: ['x-tenant'] };
    const line = auditLine({ service: 'admin', subject: 'ann', rule: 'from-office', path: '/office', source: '192.0.2.9', headers: { 'x-forwarded-for': '10.1.0.7' }, absent });
    expect((await replay(deps([ADMIN_POLICY]), line)).totals.allow_to_deny).toBe(1);
    const trusted = cidrBlockList(['192.0.2.0/24']);
    if ('invalid' in trusted) throw new Error('bad CIDR');
    expect((await replay(deps([ADMIN_POLICY], { trustedProxies: trusted }), line)).totals.unchanged).toBe(1);
  });

  it('denies callers of an issuer the candidate no longer accepts, and requests to a removed service', async () => {
    const otherIssuer = ORDERS_POLICY.replace('authentication: { issuers: [test-idp] }', 'authentication: { issuers: [other-idp] }');
    const candidate = new PolicySet([compileYaml(otherIssuer, ['test-idp', 'other-idp'])], 'v');
    const result = await replay(
      { policies: candidate, store: new MemoryStore(), relations: NO_RELATIONS },
      auditLine({ subject: 'alice', roles: ['customer'], rule: 'read' }),
      auditLine({ service: 'gone', subject: 'alice', path: '/x', rule: 'all' }),
    );
    expect(changes(result)).toEqual(['allow_to_deny gone: all/allowed → -/unknown_service ×1', 'allow_to_deny orders: read/allowed → -/untrusted_issuer ×1']);
    expect(result.changes[0]!.after.service).toBeUndefined();
  });

  it('skips, counts and explains lines it cannot replay', async () => {
    const report = await replay(
      deps([ADMIN_POLICY, ...orders]),
      'not json',
      '[1, 2]',
      '',
      JSON.stringify({ type: 'reload', msg: 'another kind of record' }),
      JSON.stringify({ type: 'decision', decision: 'allow' }),
      auditLine({ service: undefined, decision: 'deny', reason: 'unknown_service' }),
      auditLine({ decision: 'deny', reason: 'token_expired' }),
      auditLine({ decision: 'deny', reason: 'store_unavailable', subject: 'alice' }),
      // Written before the claim was read by a policy: replay cannot tell whether the caller had it.
      auditLine({ service: 'admin', subject: 'ann', rule: 'acme-staff', path: '/tenants/1', headers: { 'x-tenant': 't' } }),
      auditLine({ service: 'admin', path: '/tenants/1', decision: 'deny', reason: 'authentication_required', absent: { headers: ['x-tenant'] } }),
    );
    expect(report.totals).toEqual({
      lines: 9,
      other: 1,
      decisions: 6,
      replayed: 1,
      unchanged: 1,
      allow_to_deny: 0,
      deny_to_allow: 0,
      rule_change: 0,
      skipped: 7,
    });
    const skipped = Object.fromEntries(report.skipped.map((group) => [group.reason, group.examples.map((example) => `${example.line}: ${example.detail}`)]));
    expect(skipped).toEqual({
      unparseable: [expect.stringMatching(/^1: /), '2: not an object'],
      incomplete: [expect.stringMatching(/^5: /)],
      not_routed: ['6: unknown_service'],
      authentication_failed: ['7: token_expired'],
      not_a_policy_decision: ['8: store_unavailable'],
      unrecorded_input: ['9: claim org'],
    });
  });

  it('keeps a few examples per group and a bounded number of groups', async () => {
    const candidate = deps(tightened);
    const small = new Replay(candidate, { maxGroups: 1, examplesPerGroup: 2 });
    for (let index = 1; index <= 5; index++) await small.line(auditLine({ subject: 'alice', roles: ['customer'], rule: 'read', path: `/orders/${index}` }), index);
    await small.line(auditLine({ subject: 'fiona', roles: ['finance'], decision: 'deny', reason: 'no_matching_rule', path: '/reports' }), 6);
    await small.line(auditLine({ subject: 'sam', roles: ['support'], rule: 'support-all', path: '/v1/x' }), 7);
    const report = small.report();
    expect(report.changes).toHaveLength(1);
    expect(report.changes[0]).toMatchObject({ count: 5, examples: [{ line: 1 }, { line: 2 }] });
    expect(report.totals).toMatchObject({ allow_to_deny: 6, unchanged: 1 });
    expect(report.ungrouped).toBe(1);
  });
});

describe('replay reports', () => {
  it('prints totals, groups with examples, skips and the verdict as text, and all of it as JSON', async () => {
    const report = await replay(
      deps([ORDERS_POLICY.replace('when: [{ role: [customer, support] }]', 'when: [{ role: support }]')]),
      auditLine({ subject: 'alice', roles: ['customer'], rule: 'read' }),
      auditLine({ subject: 'alice', roles: ['customer'], method: 'POST', path: '/orders/1/refund', decision: 'deny', reason: 'no_matching_rule' }),
      auditLine({ decision: 'deny', reason: 'token_expired' }),
    );
    const context = { audit: 'audit.log', policies: 'next/', version: 'candidate', ruleChanges: false };
    expect(textReport(report, context)).toEqual([
      'replay of audit.log against next/ (version candidate)',
      '3 decisions: 2 replayed, 1 unchanged, 1 allow → deny, 0 deny → allow, 0 rule/reason changes, 1 skipped',
      '',
      'allow → deny: 1',
      '  orders: read (allow) → no rule (deny: no_matching_rule): 1',
      '      line 1: alice GET /orders/1 at 2026-11-23T10:00:00.000Z',
      '',
      'skipped: 1',
      '  authentication_failed: 1 (the credential was rejected before any rule applied; the token is not recorded, so no policy can change that; line 3: token_expired)',
      '',
      'FAIL: 1 allowed requests would be denied',
    ]);
    expect(jsonReport(report, context)).toEqual({
      audit: 'audit.log',
      policies: 'next/',
      version: 'candidate',
      totals: report.totals,
      changes: [
        {
          direction: 'allow_to_deny',
          service: 'orders',
          before: { service: 'orders', decision: 'allow', rule: 'read', reason: 'allowed' },
          after: { service: 'orders', decision: 'deny', reason: 'no_matching_rule' },
          count: 1,
          examples: [{ line: 1, decisionId: 'd-1', time: '2026-11-23T10:00:00.000Z', subject: 'alice', method: 'GET', path: '/orders/1' }],
        },
      ],
      ungrouped: 0,
      skipped: [{ reason: 'authentication_failed', count: 1, examples: [{ line: 3, detail: 'token_expired' }] }],
    });
  });
});

describe('what AuditLog records is enough to replay', () => {
  const workspace = new Workspace();
  afterAll(() => workspace.remove());

  it('replays real audit lines of a pipeline (claims, absent headers) without change, and never records the token', async () => {
    const policies = new PolicySet([compileYaml(ADMIN_POLICY), compileYaml(ORDERS_POLICY)], 'v1');
    const file = workspace.path('audit.log');
    const audit = new AuditLog({ output: file });
    const callers = [user('ann', { org: 'acme', email: 'ann@acme.test' }), user('bob', { org: 'globex' }), user('alice')];
    let next = 0;
    const pipeline = pipelineWith({
      policies: () => policies,
      authenticator: { authenticate: async () => callers[next]! },
      store: new MemoryStore([{ subject: 'alice', role: 'customer' }]),
      relations: NO_RELATIONS,
      onDecision: (decision, input) => audit.decision(decision, input, decision.service ? policies.route(decision.service, '')?.recorded : undefined),
    });
    const input = (service: string, path: string, headers: Record<string, string> = {}): AuthzInput => ({
      method: 'GET',
      host: 'localhost',
      path,
      headers: new Map(Object.entries({ authorization: 'Bearer secret-token', ...headers })),
      service,
      source: { address: '127.0.0.1' },
      contextExtensions: { service },
    });
    expect((await pipeline.decide(input('admin', '/tenants/1?q=1', { 'x-tenant': 't1' }))).allowed).toBe(true);
    next = 1;
    expect((await pipeline.decide(input('admin', '/tenants/1'))).allowed).toBe(false);
    next = 2;
    expect((await pipeline.decide(input('orders', '/orders/9'))).allowed).toBe(true);
    // The file opens asynchronously; flush until the three lines are written.
    let text = '';
    for (let attempt = 0; attempt < 100 && text.split('\n').length < 4; attempt++) {
      audit.flush();
      text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (text.split('\n').length < 4) await new Promise((resolve) => setTimeout(resolve, 20));
    }

    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('ann@acme.test');
    const lines = text.trim().split('\n');
    expect(JSON.parse(lines[1]!).input).toMatchObject({ claims: { org: 'globex' }, absent: { headers: ['x-tenant'] } });

    const same = await replay({ policies, store: new MemoryStore(), relations: NO_RELATIONS }, ...lines);
    expect(same.totals).toMatchObject({ decisions: 3, replayed: 3, unchanged: 3, skipped: 0 });
    // A candidate that also wants x-tenant on orders cannot be checked against lines recorded without it.
    const stricter = new PolicySet([compileYaml(ADMIN_POLICY), compileYaml(ORDERS_POLICY.replace("when: [{ role: [customer, support] }]", "when: [{ role: [customer, support] }, { header: { name: x-tenant, present: true } }]"))], 'v2');
    const report = await replay({ policies: stricter, store: new MemoryStore(), relations: NO_RELATIONS }, ...lines);
    expect(report.skipped).toEqual([{ reason: 'unrecorded_input', count: 1, examples: [{ line: 3, detail: 'header x-tenant' }] }]);
  });
});

describe('keycard replay (command)', () => {
  const workspace = new Workspace();
  workspace.write('keycard.yaml', settingsYaml());
  workspace.write('seed.yaml', SEED);
  workspace.write('jwks.json', { keys: [] });
  workspace.write('policies/orders.yaml', ORDERS_POLICY);
  afterAll(() => workspace.remove());
  const run = (...args: string[]) => capture(() => replayCommand(['--config', workspace.path('keycard.yaml'), ...args]));

  it('exits 0 when no allowed request would be denied', async () => {
    const audit = workspace.write('audit.jsonl', `${auditLine({ subject: 'alice', roles: ['customer'], rule: 'read' })}\n`);
    const result = await run('--audit', audit, '--policies', workspace.path('policies'));
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').at(-1)).toBe('ok: no allowed request would be denied');
  });

  it('exits 2 when the audit file cannot be read', async () => {
    const result = await run('--audit', workspace.path('missing.jsonl'), '--policies', workspace.path('policies'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^keycard replay: cannot read the audit file .*missing\.jsonl: ENOENT/);
    const directory = await run('--audit', workspace.path('policies'), '--policies', workspace.path('policies'));
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain('not a regular file');
  });

  it('exits 2 when the candidate directory is missing or its policies are invalid', async () => {
    const audit = workspace.write('audit.jsonl', `${auditLine({ subject: 'alice', roles: ['customer'], rule: 'read' })}\n`);
    const missing = await run('--audit', audit, '--policies', workspace.path('nope'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('[file_unreadable]');
    workspace.write('bad/orders.yaml', ORDERS_POLICY.replace('authentication: { issuers: [test-idp] }', 'authentication: { issuers: [nobody] }'));
    const invalid = await run('--audit', audit, '--policies', workspace.path('bad'));
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/orders\.yaml:\d+:\d+ \[unknown_issuer\] authentication\.issuers\[0\]: issuer "nobody" is not configured/);
  });

  it('needs --audit and --policies, and a known --format', async () => {
    await expect(replayCommand(['--policies', 'p'])).rejects.toThrow(UsageError);
    await expect(replayCommand(['--audit', 'a'])).rejects.toThrow(UsageError);
    await expect(replayCommand(['--audit', 'a', '--policies', 'p', '--format', 'xml'])).rejects.toThrow(UsageError);
  });
});
