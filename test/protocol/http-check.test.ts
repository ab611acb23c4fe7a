// HTTP check mode: how each proxy's sub-request becomes an AuthzInput, and the HTTP answer.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import type { Decision } from '../../src/pipeline/types.js';
import { decisionToHttpAnswer, ENVOY_HEADERS_TO_REMOVE, subRequestToInput } from '../../src/protocol/http-check.js';
import { user } from '../helpers/policy.js';

describe('subRequestToInput', () => {
  it('reads an Envoy http_service sub-request: original method, host and path behind /service/NAME', () => {
    const input = subRequestToInput({ method: 'DELETE', url: '/service/orders/orders/42?force=1', headers: { host: 'orders.shop.svc:8080', authorization: 'Bearer t' }, remoteAddress: '10.0.0.5' });
    expect(input).toMatchObject({ method: 'DELETE', host: 'orders.shop.svc:8080', path: '/orders/42?force=1', service: 'orders', source: { address: '10.0.0.5' } });
    expect(input.headers.get('authorization')).toBe('Bearer t');
    expect(input.contextExtensions).toEqual({ service: 'orders' });
  });

  it('treats /service/NAME alone as the root path', () => {
    expect(subRequestToInput({ method: 'GET', url: '/service/orders', headers: {}, remoteAddress: undefined })).toMatchObject({ path: '/', service: 'orders' });
  });

  it('reads nginx auth_request headers (X-Original-Method, X-Original-URI, X-Forwarded-Host)', () => {
    const input = subRequestToInput({
      method: 'GET',
      url: '/service/orders',
      headers: { 'x-original-method': 'post', 'x-original-uri': '/orders/42/refund?a=b', 'x-forwarded-host': 'shop.example', host: 'keycard' },
      remoteAddress: '127.0.0.1',
    });
    expect(input).toMatchObject({ method: 'POST', path: '/orders/42/refund?a=b', host: 'shop.example', service: 'orders' });
  });

  it('reads Traefik forwardAuth headers and routes by host without a service path', () => {
    const input = subRequestToInput({
      method: 'GET',
      url: '/',
      headers: { 'x-forwarded-method': 'PUT', 'x-forwarded-uri': '/products/1', 'x-forwarded-host': 'catalog' },
      remoteAddress: '127.0.0.1',
    });
    expect(input).toMatchObject({ method: 'PUT', path: '/products/1', host: 'catalog', service: undefined });
  });

  it('does not take a service name from an odd path', () => {
    expect(subRequestToInput({ method: 'GET', url: '/service//x', headers: {}, remoteAddress: undefined }).service).toBeUndefined();
  });
});

function decision(overrides: Partial<Decision>): Decision {
  return { id: 'd-1', allowed: true, reason: 'allowed', status: 200, identity: ANONYMOUS, roles: [], forwardIdentity: true, trace: [], durationMs: 0, phaseMs: {}, ...overrides };
}

describe('decisionToHttpAnswer', () => {
  it('allows with 200, the identity headers, and the client copies to remove for Envoy', () => {
    const answer = decisionToHttpAnswer(decision({ identity: user('alice'), roles: ['customer'] }), new Map([['x-keycard-admin', '1']]));
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({ 'x-keycard-subject': 'alice', 'x-keycard-roles': 'customer', 'x-keycard-decision-id': 'd-1' });
    expect(answer.headers[ENVOY_HEADERS_TO_REMOVE]).toBe('x-keycard-admin');
  });

  it('denies with the same status, challenge and body as the gRPC mode', () => {
    const answer = decisionToHttpAnswer(decision({ allowed: false, reason: 'token_expired', status: 401, service: 'orders' }), new Map());
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="orders", error="invalid_token", error_description="the token has expired"');
    expect(JSON.parse(answer.body)).toEqual({ error: 'unauthenticated', reason: 'token_expired', message: 'the token has expired', decision_id: 'd-1' });
  });
});
