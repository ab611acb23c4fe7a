// keycard as a real process: a step-up answer (401 with an RFC 9470 WWW-Authenticate challenge)
// and a dry-run service that lets a would-be deny through, counts it and audits it.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient, httpStatusNumber, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { settingsYaml, Workspace } from '../helpers/workspace.js';

const SECURE = `
service: secure
rules:
  - id: reports
    effect: allow
    match: { paths: ["/reports/**"] }
    when: [{ role: staff }, { mfa: true }, { maxAuthAge: 10m }]
`;

const SHADOW = `
service: shadow
mode: dry-run
rules:
  - { id: read, effect: allow, match: { methods: [GET] }, when: [{ role: staff }] }
  - { id: no-admin, effect: deny, match: { paths: ["/admin/**"] } }
`;

const STEP_UP = `
stepUp:
  mfaAmrValues: [otp, hwk]
  mfaAcrValues: ["urn:example:loa:mfa"]
`;

let workspace: Workspace;
let keycard: KeycardProcess;
let client: AuthorizationClient;
let key: TestKey;

beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace();
  workspace.write('keycard.yaml', settingsYaml(STEP_UP));
  workspace.write('jwks.json', jwks(key));
  workspace.write('seed.yaml', 'roleBindings:\n  - { subject: alice, roles: [staff] }\n');
  workspace.write('policies/secure.yaml', SECURE);
  workspace.write('policies/shadow.yaml', SHADOW);
  keycard = await startKeycard(workspace.path('keycard.yaml'));
  client = createCheckClient(keycard.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await keycard?.stop();
  workspace?.remove();
});

async function ask(spec: HttpRequestSpec, subject?: string, claims: Record<string, unknown> = {}): Promise<CheckResponse__Output> {
  const headers = { ...spec.headers };
  if (subject) headers.authorization = `Bearer ${await signToken(key, { sub: subject, claims })}`;
  return check(client, buildCheckRequest({ ...spec, headers }));
}

function headerValue(response: CheckResponse__Output, name: string): string | undefined {
  const options = response.ok_response?.headers ?? response.denied_response?.headers ?? [];
  return options.find((option) => option.header?.key === name)?.header?.value;
}

async function metrics(): Promise<string> {
  return (await fetch(`${keycard.adminUrl}/metrics`)).text();
}

/** The audit line of one decision; the audit log is flushed at least once a second. */
async function auditLine(decisionId: string): Promise<Record<string, unknown>> {
  const file = workspace.path('audit.log');
  for (let attempt = 0; attempt < 100; attempt++) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const line = text.split('\n').find((candidate) => candidate.includes(`"decision_id":"${decisionId}"`));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no audit line for ${decisionId}`);
}

const now = () => Math.floor(Date.now() / 1000);

describe('step-up over gRPC', () => {
  it('answers a password-only, hour-old login with 401 and an RFC 9470 challenge', async () => {
    const response = await ask({ service: 'secure', path: '/reports/q1' }, 'alice', { amr: ['pwd'], auth_time: now() - 3600 });
    expect(response.status?.code).toBe(16);
    expect(httpStatusNumber(response.denied_response?.status?.code)).toBe(401);
    expect(headerValue(response, 'www-authenticate')).toBe(
      'Bearer realm="secure", error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="urn:example:loa:mfa", max_age=600',
    );
    const body = JSON.parse(response.denied_response?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'unauthenticated', reason: 'insufficient_user_authentication', acr_values: 'urn:example:loa:mfa', max_age: 600 });
    expect(body.decision_id).toBe(headerValue(response, 'x-keycard-decision-id'));
  });

  it('lets the same caller through after a fresh multi-factor login', async () => {
    const response = await ask({ service: 'secure', path: '/reports/q1' }, 'alice', { amr: ['pwd', 'otp'], auth_time: now() - 5 });
    expect(response.status?.code).toBe(0);
  });

  it('answers a plain 403 without a challenge when a step-up would not help', async () => {
    const response = await ask({ service: 'secure', path: '/reports/q1' }, 'bob', { amr: ['pwd'], auth_time: now() });
    expect(response.status?.code).toBe(7);
    expect(headerValue(response, 'www-authenticate')).toBeUndefined();
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'no_matching_rule' });
  });
});

describe('dry-run over gRPC', () => {
  it('allows a would-be deny, with a decision id, and counts and audits it as dry_run_deny', async () => {
    const response = await ask({ service: 'shadow', path: '/items' }, 'bob');
    expect(response.status?.code).toBe(0);
    expect(response.denied_response).toBeFalsy();
    const decisionId = headerValue(response, 'x-keycard-decision-id');
    expect(decisionId).toMatch(/^[0-9a-f-]{36}$/);

    const denied = await ask({ service: 'shadow', path: '/admin/users' }, 'alice');
    expect(denied.status?.code).toBe(0);

    const text = await metrics();
    expect(text).toMatch(/^keycard_decisions_total\{service="shadow",decision="dry_run_deny",reason="no_matching_rule"\} 1$/m);
    expect(text).toMatch(/^keycard_decisions_total\{service="shadow",decision="dry_run_deny",reason="explicit_deny"\} 1$/m);
    expect(text).toMatch(/^keycard_dry_run_denies_total\{service="shadow",rule="_none",reason="no_matching_rule"\} 1$/m);
    expect(text).toMatch(/^keycard_dry_run_denies_total\{service="shadow",rule="no-admin",reason="explicit_deny"\} 1$/m);
    expect(text).not.toMatch(/keycard_decisions_total\{service="shadow",decision="deny"/);

    expect(await auditLine(decisionId!)).toMatchObject({ service: 'shadow', subject: 'bob', decision: 'dry_run_deny', status: 200, dry_run: { reason: 'no_matching_rule' } });
  });

  it('still rejects an unacceptable path in a dry-run service', async () => {
    const response = await ask({ service: 'shadow', path: '/items/..%2f..%2fadmin' }, 'alice');
    expect(response.status?.code).toBe(3);
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'invalid_path' });
  });
});
