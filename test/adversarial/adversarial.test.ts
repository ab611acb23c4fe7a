// The adversarial suite: every case of the tables in cases/ against one real keycard process over
// gRPC. Each case must end in exactly the decision it names, within its time limit; afterwards
// keycard must still be alive, serving, and must never have answered internal_error.
import { readFileSync } from 'node:fs';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denySpec } from '../../src/errors.js';
import { httpStatusNumber } from '../../src/protocol/check-client.js';
import type { CheckRequest } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { responseHeader } from '../helpers/keycard-process.js';
import type { AdversarialCase, Expectation } from './case.js';
import { caseTables } from './cases/index.js';
import { checkRequest, iss, startWorld, type World } from './harness.js';

const DEFAULT_WITHIN_MS = 3_000;

let world: World;

beforeAll(async () => {
  world = await startWorld();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

interface Answer {
  readonly request: CheckRequest;
  readonly response?: CheckResponse__Output;
  readonly error?: ServiceError;
  readonly ms: number;
}

/** The answer, or the gRPC error, and how long it took. */
async function answer(testCase: AdversarialCase): Promise<Answer> {
  const within = testCase.withinMs ?? DEFAULT_WITHIN_MS;
  if (testCase.prime) await world.send(testCase.prime(world.ctx), within);
  const request = testCase.request(world.ctx);
  const started = performance.now();
  try {
    const response = await world.send(request, within + 2_000);
    return { request, response, ms: performance.now() - started };
  } catch (error) {
    return { request, error: error as ServiceError, ms: performance.now() - started };
  }
}

/** Names of the request headers a service could read as keycard's own (x-keycard-*, x_keycard_*). */
function keycardLookalikes(request: CheckRequest): string[] {
  const http = request.attributes?.request?.http;
  const names = [...Object.keys(http?.headers ?? {}), ...(http?.header_map?.headers ?? []).map((header) => header.key ?? '')];
  return names.map((name) => name.toLowerCase()).filter((name) => name.replace(/_/g, '-').startsWith('x-keycard-'));
}

function denyBody(response: CheckResponse__Output): { reason?: string } {
  return JSON.parse(response.denied_response?.body ?? '{}') as { reason?: string };
}

function check(expected: Expectation, { request, response, error }: Answer): void {
  if ('grpcError' in expected) {
    expect(response, 'a gRPC error was expected').toBeUndefined();
    expect(error?.code).toBe(grpcStatus[expected.grpcError]);
    return;
  }
  expect(error, `gRPC error ${error?.code} ${error?.details}`).toBeUndefined();
  if ('allow' in expected) {
    expect({ reason: denyBody(response!).reason, code: response!.status?.code }).toEqual({ reason: undefined, code: 0 });
    expect(response!.ok_response).toBeTruthy();
    expect(responseHeader(response!, 'x-keycard-subject')).toBe(expected.subject);
    const set = new Map((response!.ok_response!.headers ?? []).map((option) => [option.header!.key, option.header!.value]));
    const removed = new Set(response!.ok_response!.headers_to_remove ?? []);
    // In every allowed case, not only the spoofing ones: no client copy of a keycard header
    // reaches the service; keycard either removes it or overwrites it.
    for (const name of new Set([...(expected.strips ?? []), ...keycardLookalikes(request)])) {
      expect(removed.has(name) || set.has(name), `${name} is neither removed nor overwritten`).toBe(true);
    }
    return;
  }
  expect(denySpec(expected.reason).status, 'the table names the catalogued status of its reason').toBe(expected.status);
  expect({ reason: denyBody(response!).reason, status: httpStatusNumber(response!.denied_response?.status?.code) }).toEqual({
    reason: expected.reason,
    status: expected.status,
  });
}

for (const [table, cases] of Object.entries(caseTables)) {
  describe(table, () => {
    for (const testCase of cases) {
      it(testCase.name, async () => {
        const result = await answer(testCase);
        check(testCase.expect, result);
        expect(result.ms, 'answered in time').toBeLessThan(testCase.withinMs ?? DEFAULT_WITHIN_MS);
        testCase.verify?.(world.ctx, result.response!);
      });
    }
  });
}

describe('bursts', () => {
  it('a flood of unknown kids refreshes the HTTP JWKS at most once per jwksMinRefreshInterval', async () => {
    const { ctx } = world;
    const before = ctx.server.hits('/http/jwks');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        world.send(checkRequest({ path: '/orders/42', headers: { authorization: ctx.bearer({ key: ctx.keys.fileRs, header: { kid: `flood-${i}` }, claims: { iss: iss('http') } }) } }), 5_000),
      ),
    );
    expect(new Set(answers.map((response) => denyBody(response).reason))).toEqual(new Set(['unknown_key']));
    expect(ctx.server.hits('/http/jwks') - before).toBeLessThanOrEqual(1);
  });

  it('concurrent tokens of a never-answering JWKS all get 503 within the timeout, sharing one fetch', async () => {
    const { ctx } = world;
    const before = ctx.server.hits('/slow/jwks');
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        world.send(checkRequest({ path: '/orders/42', headers: { authorization: ctx.bearer({ claims: { iss: iss('slow'), jti: `burst-${i}` } }) } }), 5_000),
      ),
    );
    expect(new Set(answers.map((response) => denyBody(response).reason))).toEqual(new Set(['jwks_unavailable']));
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(ctx.server.hits('/slow/jwks') - before).toBeLessThanOrEqual(2);
  });
});

describe('after the suite', () => {
  it('keycard is alive, serves valid requests and never answered internal_error', async () => {
    expect(world.keycard.process.exitCode).toBeNull();
    expect((await fetch(`${world.keycard.adminUrl}/healthz`)).status).toBe(200);
    const response = await world.send(checkRequest({ path: '/orders/42', headers: { authorization: world.ctx.bearer() } }), 2_000);
    expect(response.status?.code).toBe(0);
    const metrics = await (await fetch(`${world.keycard.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/keycard_decisions_total\{service="shop",decision="allow",reason="allowed"\} [1-9]/);
    expect(metrics).not.toMatch(/reason="internal_error"/);
    expect(world.keycard.stderr()).not.toMatch(/check failed outside the pipeline|uncaught|unhandled/i);
  });

  it('no token or API key reached the audit log or the logs', async () => {
    // Every compact JWS or JWE the cases built starts with base64url('{"'): "eyJ".
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the audit log flushes at least once a second
    const audit = readFileSync(world.workspace.path('audit.log'), 'utf8');
    expect(audit.split('\n').length).toBeGreaterThan(200);
    for (const [name, text] of [['audit log', audit], ['stderr', world.keycard.stderr()]] as const) {
      expect(text, name).not.toMatch(/eyJ[A-Za-z0-9_-]{8}/);
      expect(text, name).not.toMatch(/kc_[0-9A-Za-z]{12}_/);
    }
  });

  it('reports exactly the broken JWKS issuers as not ready', async () => {
    const readyz = await fetch(`${world.keycard.adminUrl}/readyz`);
    expect(readyz.status).toBe(503);
    const problems = await readyz.text();
    expect(problems).toContain('issuer slow-idp');
    expect(problems).not.toContain('issuer file-idp');
    expect(problems).not.toContain('issuer http-idp');
  });
});
