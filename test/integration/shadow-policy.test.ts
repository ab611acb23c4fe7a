// The live shadow policy through real keycard processes: the candidate set in `shadow.dir` decides
// every request again; disagreements are counted and audited with both rule ids, enforcement is
// exactly that of a keycard without a shadow, and a broken candidate is reported (log, metric,
// /readyz warning) without touching enforcement or readiness, then hot-reloaded once fixed.
import { credentials } from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { responseHeader, startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

/** The next release: reads need the support role, refunds are switched off. */
const CANDIDATE = `${ORDERS_POLICY.replace('role: [customer, support]', 'role: [support]').replace(
  '  - id: refund\n',
  '  - id: no-refunds\n    effect: deny\n    match: { methods: [POST], paths: ["/orders/{id}/refund"] }\n  - id: refund\n',
)}`;

const SHADOW_SETTINGS = settingsYaml('shadow: { dir: policies-next }\n');

interface Running {
  readonly workspace: Workspace;
  readonly keycard: KeycardProcess;
  readonly client: AuthorizationClient;
  close(): Promise<void>;
}

async function start(key: TestKey, settings: string, files: Record<string, string>, args: string[] = []): Promise<Running> {
  const workspace = new Workspace().writeAll({ 'keycard.yaml': settings, 'jwks.json': JSON.stringify(jwks(key)), 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY, ...files });
  try {
    const keycard = await startKeycard(workspace.path('keycard.yaml'), args);
    const client = createCheckClient(keycard.grpcAddress);
    return {
      workspace,
      keycard,
      client,
      async close() {
        client.close();
        await keycard.stop();
        workspace.remove();
      },
    };
  } catch (error) {
    workspace.remove();
    throw error;
  }
}

async function metrics(keycard: KeycardProcess): Promise<string> {
  return (await fetch(`${keycard.adminUrl}/metrics`)).text();
}

/** The value of one sample (exact labels), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface AuditLine {
  readonly type: string;
  readonly decision_id: string;
  readonly service?: string;
  readonly method?: string;
  readonly path?: string;
  readonly subject?: string;
  readonly enforced?: { decision: string; reason: string; rule?: string; policy_version?: string };
  readonly shadow?: { decision: string; reason: string; rule?: string; policy_version?: string };
}

function auditLines(running: Running): AuditLine[] {
  const file = running.workspace.path('audit.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine);
}

/** The response with everything that differs between two processes (decision ids) blanked. */
function comparable(response: CheckResponse__Output): string {
  return JSON.stringify(response).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID');
}

function decisionId(response: CheckResponse__Output): string {
  const id = responseHeader(response, 'x-keycard-decision-id');
  if (!id) throw new Error('no decision id');
  return id;
}

describe('a shadow policy set beside the enforced one', () => {
  let key: TestKey;
  let shadowed: Running;
  let plain: Running;
  const tokens: Record<string, string> = {};
  const requests: Record<string, HttpRequestSpec> = {};

  beforeAll(async () => {
    key = await makeKey();
    [shadowed, plain] = await Promise.all([start(key, SHADOW_SETTINGS, { 'policies-next/orders.yaml': CANDIDATE }), start(key, settingsYaml(), {})]);
    for (const subject of ['alice', 'sam', 'fiona']) tokens[subject] = `Bearer ${await signToken(key, { sub: subject })}`;
    Object.assign(requests, {
      aliceRead: { service: 'orders', path: '/orders/1', headers: { authorization: tokens.alice! } },
      samRead: { service: 'orders', path: '/orders/1', headers: { authorization: tokens.sam! } },
      fionaRefund: { service: 'orders', method: 'POST', path: '/orders/1/refund', headers: { authorization: tokens.fiona! } },
      health: { service: 'orders', path: '/healthz' },
      legacy: { service: 'orders', path: '/v1/orders', headers: { authorization: tokens.sam! } },
      anonymousRead: { service: 'orders', path: '/orders/1' },
    } satisfies Record<string, HttpRequestSpec>);
  });
  afterAll(async () => {
    await Promise.all([shadowed?.close(), plain?.close()]);
  });

  it('enforces exactly what keycard without a shadow enforces', async () => {
    for (const [name, spec] of Object.entries(requests)) {
      const [withShadow, without] = await Promise.all([check(shadowed.client, buildCheckRequest(spec)), check(plain.client, buildCheckRequest(spec))]);
      expect(comparable(withShadow), name).toBe(comparable(without));
    }
    expect((await fetch(`${shadowed.keycard.adminUrl}/readyz`)).status).toBe(200);
  });

  it('counts and audits the requests the candidate decides otherwise, with both rule ids', async () => {
    const before = await metrics(shadowed.keycard);
    const ask = (spec: HttpRequestSpec) => check(shadowed.client, buildCheckRequest(spec));
    const alice = await ask(requests.aliceRead!);
    const fiona = await ask(requests.fionaRefund!);
    const sam = await ask(requests.samRead!);
    expect([alice.status?.code, fiona.status?.code, sam.status?.code]).toEqual([0, 0, 0]);

    const readDenied = 'keycard_shadow_disagreements_total{service="orders",enforced="allow",shadow="deny",rule="_none"}';
    const refundDenied = 'keycard_shadow_disagreements_total{service="orders",enforced="allow",shadow="deny",rule="no-refunds"}';
    const agreed = 'keycard_shadow_evaluations_total{service="orders",result="agree"}';
    const after = await until(
      () => metrics(shadowed.keycard),
      (text) => sample(text, readDenied) === sample(before, readDenied) + 1 && sample(text, refundDenied) === sample(before, refundDenied) + 1 && sample(text, agreed) >= sample(before, agreed) + 1,
      'the three shadow evaluations counted',
    );
    expect(sample(after, 'keycard_shadow_evaluations_total{service="orders",result="disagree"}') - sample(before, 'keycard_shadow_evaluations_total{service="orders",result="disagree"}')).toBe(2);
    expect(sample(after, 'keycard_shadow_policy_loaded')).toBe(1);
    expect(after).toMatch(/^keycard_shadow_policy_info\{version="[0-9a-f]{12}"\} 1$/m);

    const lines = await until(
      async () => auditLines(shadowed).filter((line) => line.type === 'shadow_disagreement'),
      (found) => [alice, fiona].every((response) => found.some((line) => line.decision_id === decisionId(response))),
      'the disagreement audit lines',
    );
    expect(lines.find((line) => line.decision_id === decisionId(alice))).toMatchObject({
      service: 'orders',
      method: 'GET',
      path: '/orders/1',
      subject: 'alice',
      enforced: { decision: 'allow', reason: 'allowed', rule: 'read' },
      shadow: { decision: 'deny', reason: 'no_matching_rule' },
    });
    const refund = lines.find((line) => line.decision_id === decisionId(fiona));
    expect(refund?.enforced).toMatchObject({ decision: 'allow', rule: 'refund' });
    expect(refund?.shadow).toMatchObject({ decision: 'deny', reason: 'explicit_deny', rule: 'no-refunds', policy_version: expect.stringMatching(/^[0-9a-f]{12}$/) });
    // Sam's read agrees: a decision line, no disagreement line.
    const samLines = auditLines(shadowed).filter((line) => line.decision_id === decisionId(sam));
    expect(samLines.map((line) => line.type)).toEqual(['decision']);
  });

  it('reports a broken candidate without touching enforcement or readiness, and reloads it once fixed', async () => {
    const { workspace, keycard } = shadowed;
    const ask = () => check(shadowed.client, buildCheckRequest(requests.aliceRead!));
    const errors = 'keycard_shadow_policy_reloads_total{result="error"}';
    const before = sample(await metrics(keycard), errors);
    const version = /keycard_shadow_policy_info\{version="([0-9a-f]+)"\}/.exec(await metrics(keycard))?.[1];

    workspace.write('policies-next/orders.yaml', `${CANDIDATE}  - { id: broken, effect: allow, match: { paths: [nope] }\n`);
    await until(() => metrics(keycard), (text) => sample(text, errors) > before, 'the failed shadow reload counted');
    await until(async () => keycard.stderr(), (text) => text.includes('shadow policies failed to load; enforcement is unchanged'), 'the shadow load error logged');

    const readyz = await fetch(`${keycard.adminUrl}/readyz`);
    expect(readyz.status).toBe(200);
    const body = (await readyz.json()) as { ready: boolean; problems: string[]; warnings: string[] };
    expect(body.ready).toBe(true);
    expect(body.problems).toEqual([]);
    expect(body.warnings.join('\n')).toMatch(new RegExp(`shadow policies \\(keeping shadow version ${version}\\): .*orders\\.yaml:\\d+:\\d+`));
    // Enforcement is the enforced set's, and the candidate's last good version still shadows it.
    expect((await ask()).status?.code).toBe(0);
    expect(await metrics(keycard)).toContain(`keycard_shadow_policy_info{version="${version}"} 1`);

    // Fixed (now identical to the enforced set): reloaded, and alice's read agrees from then on.
    workspace.write('policies-next/orders.yaml', ORDERS_POLICY);
    await until(() => metrics(keycard), (text) => sample(text, 'keycard_shadow_policy_reloads_total{result="ok"}') >= 2 && !text.includes(`version="${version}"`), 'the fixed candidate loaded');
    expect(await (await fetch(`${keycard.adminUrl}/readyz`)).text()).toBe('ready\n');
    const agreedBefore = sample(await metrics(keycard), 'keycard_shadow_evaluations_total{service="orders",result="agree"}');
    const disagreedBefore = sample(await metrics(keycard), 'keycard_shadow_evaluations_total{service="orders",result="disagree"}');
    expect((await ask()).status?.code).toBe(0);
    const after = await until(
      () => metrics(keycard),
      (text) => sample(text, 'keycard_shadow_evaluations_total{service="orders",result="agree"}') === agreedBefore + 1,
      'the read compared under the fixed candidate',
    );
    expect(sample(after, 'keycard_shadow_evaluations_total{service="orders",result="disagree"}')).toBe(disagreedBefore);
  });
});

describe('a candidate that is broken from the start', () => {
  it('leaves keycard ready and enforcing, says why, and counts the evaluations it could not make', async () => {
    const key = await makeKey();
    const running = await start(key, SHADOW_SETTINGS, { 'policies-next/orders.yaml': 'service: orders\nrules: [\n' });
    try {
      const response = await check(running.client, buildCheckRequest({ service: 'orders', path: '/orders/1', headers: { authorization: `Bearer ${await signToken(key, { sub: 'alice' })}` } }));
      expect(response.status?.code).toBe(0);
      const readyz = await fetch(`${running.keycard.adminUrl}/readyz`);
      expect(readyz.status).toBe(200);
      expect(((await readyz.json()) as { warnings: string[] }).warnings.join('\n')).toMatch(/^shadow policies: .*policies-next\/orders\.yaml:\d+:\d+/m);
      const text = await until(
        () => metrics(running.keycard),
        (found) => sample(found, 'keycard_shadow_evaluations_total{service="orders",result="error"}') === 1,
        'the evaluation without a candidate counted',
      );
      expect(sample(text, 'keycard_shadow_policy_loaded')).toBe(0);
      expect(sample(text, 'keycard_shadow_policy_reloads_total{result="error"}')).toBe(1);
      expect(running.keycard.stderr()).toContain('shadow policies failed to load; enforcement is unchanged');
      // Not the enforced set's message: nothing about the candidate makes keycard not ready.
      expect(running.keycard.stderr()).not.toContain('not ready');
    } finally {
      await running.close();
    }
  });
});

describe('a shadow in every worker', () => {
  it('is evaluated by each worker and added up on the primary', async () => {
    const key = await makeKey();
    const running = await start(key, SHADOW_SETTINGS, { 'policies-next/orders.yaml': CANDIDATE }, ['--workers', '2']);
    const Client = authorizationService();
    // Clients on connections of their own, so that both workers get some.
    const clients = Array.from({ length: 4 }, () => new Client(running.keycard.grpcAddress, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    try {
      const request = buildCheckRequest({ service: 'orders', path: '/orders/1', headers: { authorization: `Bearer ${await signToken(key, { sub: 'alice' })}` } });
      for (const client of clients) for (let i = 0; i < 3; i++) expect((await check(client, request)).status?.code).toBe(0);
      const text = await until(
        () => metrics(running.keycard),
        (found) => sample(found, 'keycard_shadow_disagreements_total{service="orders",enforced="allow",shadow="deny",rule="_none"}') === 12,
        'twelve disagreements added up',
      );
      expect(sample(text, 'keycard_shadow_evaluations_total{service="orders",result="disagree"}')).toBe(12);
      expect(sample(text, 'keycard_shadow_policy_loaded')).toBe(1);
      expect(text).toMatch(/^keycard_shadow_policy_info\{version="[0-9a-f]{12}"\} 1$/m);
      expect((await fetch(`${running.keycard.adminUrl}/readyz`)).status).toBe(200);
    } finally {
      for (const client of clients) client.close();
      await running.close();
    }
  });
});
