// keycard as a real process (dist/cli.js serve) on free ports, called with a real grpc-js client.
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { buildCheckRequest, check, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import { healthService } from '../../src/protocol/proto.js';
import { signToken } from '../helpers/keys.js';
import { responseHeader, serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml } from '../helpers/workspace.js';

let served: ServedKeycard;

beforeAll(async () => {
  served = await serveKeycard(settingsYaml(), { 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY });
});

afterAll(() => served?.close());

const ask = (spec: HttpRequestSpec, subject?: string) => served.ask({ service: 'orders', ...spec }, subject);

function denyBody(response: CheckResponse__Output): { reason: string; decision_id: string } {
  return JSON.parse(response.denied_response?.body ?? '{}') as { reason: string; decision_id: string };
}

describe('Check over gRPC', () => {
  it('allows a caller whose live role permits the request, with verified identity headers', async () => {
    const response = await ask({ path: '/orders/42', headers: { 'x-keycard-roles': 'admin' } }, 'alice');
    expect(response.status?.code).toBe(0);
    expect(responseHeader(response, 'x-keycard-subject')).toBe('alice');
    expect(responseHeader(response, 'x-keycard-roles')).toBe('customer');
    expect(responseHeader(response, 'x-keycard-decision-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('denies with 403 when no rule allows and 401 without a credential', async () => {
    const forbidden = await ask({ method: 'POST', path: '/orders/42/refund' }, 'alice');
    expect(forbidden.status?.code).toBe(7);
    expect(forbidden.denied_response?.status?.code).toBe('Forbidden');
    expect(denyBody(forbidden).reason).toBe('no_matching_rule');
    expect(denyBody(forbidden).decision_id).toBe(responseHeader(forbidden, 'x-keycard-decision-id'));

    const anonymous = await ask({ path: '/orders/42' });
    expect(anonymous.status?.code).toBe(16);
    expect(denyBody(anonymous).reason).toBe('authentication_required');
  });

  it('routes by host when Envoy sends no service name', async () => {
    const response = await check(served.client, buildCheckRequest({ host: 'Orders.Shop.SVC:8080', path: '/healthz' }));
    expect(response.status?.code).toBe(0);
    const unknown = await check(served.client, buildCheckRequest({ host: 'elsewhere', path: '/healthz' }));
    expect(denyBody(unknown).reason).toBe('unknown_service');
  });

  it('answers malformed requests with a deny, never a gRPC error', async () => {
    const empty = await check(served.client, {});
    expect(empty.status?.code).toBe(3);
    expect(denyBody(empty).reason).toBe('invalid_request');
    const badPath = await ask({ path: '/orders/..%2f..%2fadmin' }, 'sam');
    expect(badPath.status?.code).toBe(3);
    expect(denyBody(badPath).reason).toBe('invalid_path');
    const manyHeaders = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'v']));
    const tooMany = await ask({ path: '/orders/1', headers: manyHeaders }, 'sam');
    expect(denyBody(tooMany).reason).toBe('request_too_large');
  });

  it('applies a role change in the store without a new token', async () => {
    // fiona's finance role is bound to the orders service only.
    const refund = await ask({ method: 'POST', path: '/orders/7/refund' }, 'fiona');
    expect(refund.status?.code).toBe(0);
    expect(responseHeader(refund, 'x-keycard-roles')).toBe('finance');
  });

  it('counts decisions by service, decision and reason on /metrics', async () => {
    const text = await served.metrics();
    expect(text).toMatch(/keycard_decisions_total\{service="orders",decision="allow",reason="allowed"\} [1-9]/);
    expect(text).toMatch(/keycard_decisions_total\{service="orders",decision="deny",reason="no_matching_rule"\} [1-9]/);
    expect(text).toMatch(/keycard_decisions_total\{service="_unknown",decision="deny",reason="unknown_service"\} [1-9]/);
    expect(text).toMatch(/keycard_token_cache_misses_total [1-9]/);
    expect(text).toMatch(/keycard_jwks_fetches_total\{issuer="test-idp",result="ok"\} 1/);
    expect(text).toMatch(/keycard_check_duration_seconds_count\{decision="allow"\} [1-9]/);
    expect(text).toMatch(/keycard_phase_duration_seconds_count\{phase="identity"\} [1-9]/);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('recognizes a repeated token from the cache', async () => {
    const token = await signToken(served.key, { sub: 'sam' });
    const before = Number(/keycard_token_cache_hits_total (\d+)/.exec(await served.metrics())?.[1]);
    for (let i = 0; i < 3; i++) {
      const response = await check(served.client, buildCheckRequest({ service: 'orders', path: '/orders/1', headers: { authorization: `Bearer ${token}` } }));
      expect(response.status?.code).toBe(0);
    }
    const after = Number(/keycard_token_cache_hits_total (\d+)/.exec(await served.metrics())?.[1]);
    expect(after - before).toBe(2);
  });
});

describe('health and readiness', () => {
  it('reports SERVING on grpc.health.v1 Check for the server and the Authorization service', async () => {
    const Health = healthService();
    const health = new Health(served.keycard.grpcAddress, credentials.createInsecure());
    for (const service of ['', 'envoy.service.auth.v3.Authorization']) {
      const status = await new Promise<string | undefined>((resolve, reject) =>
        health.Check({ service }, (error, response) => (error ? reject(error) : resolve(response?.status))),
      );
      expect(status).toBe('SERVING');
    }
    health.close();
  });

  it('streams the status on grpc.health.v1 Watch', async () => {
    const Health = healthService();
    const health = new Health(served.keycard.grpcAddress, credentials.createInsecure());
    const call = health.Watch({ service: '' });
    const first = await new Promise<string | undefined>((resolve, reject) => {
      call.once('data', (message: { status?: string }) => resolve(message.status));
      call.once('error', reject);
    });
    expect(first).toBe('SERVING');
    call.cancel();
    health.close();
  });

  it('answers /healthz and /readyz', async () => {
    const healthz = await fetch(`${served.keycard.adminUrl}/healthz`);
    expect(healthz.status).toBe(200);
    const readyz = await fetch(`${served.keycard.adminUrl}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).toBe('ready\n');
  });
});
