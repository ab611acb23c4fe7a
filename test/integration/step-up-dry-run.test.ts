// keycard as a real process: a step-up answer (401 with an RFC 9470 WWW-Authenticate challenge)
// and a dry-run service that lets a would-be deny through, counts it and audits it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusNumber } from '../../src/protocol/check-client.js';
import { waitForAuditLine } from '../helpers/audit.js';
import { responseHeader, serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { settingsYaml } from '../helpers/workspace.js';

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

let served: ServedKeycard;

beforeAll(async () => {
  served = await serveKeycard(settingsYaml(STEP_UP), {
    'seed.yaml': 'roleBindings:\n  - { subject: alice, roles: [staff] }\n',
    'policies/secure.yaml': SECURE,
    'policies/shadow.yaml': SHADOW,
  });
});

afterAll(() => served?.close());

/** The audit line of one decision; the audit log is flushed at least once a second. */
const auditLine = (decisionId: string) => waitForAuditLine(served.workspace.path('audit.log'), decisionId, { timeoutMs: 10_000 });

const now = () => Math.floor(Date.now() / 1000);

describe('step-up over gRPC', () => {
  it('answers a password-only, hour-old login with 401 and an RFC 9470 challenge', async () => {
    const response = await served.ask({ service: 'secure', path: '/reports/q1' }, 'alice', { amr: ['pwd'], auth_time: now() - 3600 });
    expect(response.status?.code).toBe(16);
    expect(httpStatusNumber(response.denied_response?.status?.code)).toBe(401);
    expect(responseHeader(response, 'www-authenticate')).toBe(
      'Bearer realm="secure", error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="urn:example:loa:mfa", max_age=600',
    );
    const body = JSON.parse(response.denied_response?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'unauthenticated', reason: 'insufficient_user_authentication', acr_values: 'urn:example:loa:mfa', max_age: 600 });
    expect(body.decision_id).toBe(responseHeader(response, 'x-keycard-decision-id'));
  });

  it('lets the same caller through after a fresh multi-factor login', async () => {
    const response = await served.ask({ service: 'secure', path: '/reports/q1' }, 'alice', { amr: ['pwd', 'otp'], auth_time: now() - 5 });
    expect(response.status?.code).toBe(0);
  });

  it('answers a plain 403 without a challenge when a step-up would not help', async () => {
    const response = await served.ask({ service: 'secure', path: '/reports/q1' }, 'bob', { amr: ['pwd'], auth_time: now() });
    expect(response.status?.code).toBe(7);
    expect(responseHeader(response, 'www-authenticate')).toBeUndefined();
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'no_matching_rule' });
  });
});

describe('dry-run over gRPC', () => {
  it('allows a would-be deny, with a decision id, and counts and audits it as dry_run_deny', async () => {
    const response = await served.ask({ service: 'shadow', path: '/items' }, 'bob');
    expect(response.status?.code).toBe(0);
    expect(response.denied_response).toBeFalsy();
    const decisionId = responseHeader(response, 'x-keycard-decision-id');
    expect(decisionId).toMatch(/^[0-9a-f-]{36}$/);

    const denied = await served.ask({ service: 'shadow', path: '/admin/users' }, 'alice');
    expect(denied.status?.code).toBe(0);

    const text = await served.metrics();
    expect(text).toMatch(/^keycard_decisions_total\{service="shadow",decision="dry_run_deny",reason="no_matching_rule"\} 1$/m);
    expect(text).toMatch(/^keycard_decisions_total\{service="shadow",decision="dry_run_deny",reason="explicit_deny"\} 1$/m);
    expect(text).toMatch(/^keycard_dry_run_denies_total\{service="shadow",rule="_none",reason="no_matching_rule"\} 1$/m);
    expect(text).toMatch(/^keycard_dry_run_denies_total\{service="shadow",rule="no-admin",reason="explicit_deny"\} 1$/m);
    expect(text).not.toMatch(/keycard_decisions_total\{service="shadow",decision="deny"/);

    expect(await auditLine(decisionId!)).toMatchObject({ service: 'shadow', subject: 'bob', decision: 'dry_run_deny', status: 200, dry_run: { reason: 'no_matching_rule' } });
  });

  it('still rejects an unacceptable path in a dry-run service', async () => {
    const response = await served.ask({ service: 'shadow', path: '/items/..%2f..%2fadmin' }, 'alice');
    expect(response.status?.code).toBe(3);
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'invalid_path' });
  });
});
