// CheckRequest/CheckResponse conversions, checked through the real protobuf encoding that
// grpc-js uses on the wire (serialize → bytes → deserialize), not just as JS objects.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import type { Decision } from '../../src/pipeline/types.js';
import { buildCheckRequest, httpStatusNumber } from '../../src/protocol/check-client.js';
import { checkRequestToInput } from '../../src/protocol/check-request.js';
import { decisionToCheckResponse } from '../../src/protocol/check-response.js';
import type { CheckRequest__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { envoyProtos } from '../../src/protocol/proto.js';

type Codec = { serialize(value: object): Buffer; deserialize(bytes: Buffer): object };

function codec(type: string): Codec {
  return envoyProtos().definition[type] as unknown as Codec;
}

function roundTrip<T>(type: string, value: object): T {
  const { serialize, deserialize } = codec(type);
  return deserialize(serialize(value)) as T;
}

function decision(overrides: Partial<Decision>): Decision {
  return {
    id: 'd-1',
    allowed: true,
    reason: 'allowed',
    status: 200,
    identity: ANONYMOUS,
    roles: [],
    forwardIdentity: true,
    trace: [],
    durationMs: 0.1,
    phaseMs: {},
    ...overrides,
  };
}

const alice = { authenticated: true as const, subject: 'alice', issuer: 'idp', credential: 'jwt' as const, claims: {}, expiresAt: 2e9 };

describe('CheckRequest → AuthzInput', () => {
  it('reads method, host, path, headers, source and context extensions from the wire form', () => {
    const request = roundTrip<CheckRequest__Output>(
      'envoy.service.auth.v3.CheckRequest',
      buildCheckRequest({ method: 'post', host: 'Orders:8080', path: '/orders/1?x=1', headers: { Authorization: 'Bearer t', 'X-Request-Id': 'r-1' }, service: 'orders', sourceAddress: '10.1.2.3' }),
    );
    const input = checkRequestToInput(request);
    expect(input.method).toBe('POST');
    expect(input.host).toBe('Orders:8080');
    expect(input.path).toBe('/orders/1?x=1');
    expect(input.headers.get('authorization')).toBe('Bearer t');
    expect(input.service).toBe('orders');
    expect(input.source.address).toBe('10.1.2.3');
    expect(input.requestId).toBe('r-1');
  });

  it('reads headers sent as header_map (encode_raw_headers), joining repeated names', () => {
    const request = roundTrip<CheckRequest__Output>('envoy.service.auth.v3.CheckRequest', {
      attributes: {
        request: {
          http: {
            method: 'GET',
            path: '/',
            header_map: {
              headers: [
                { key: ':authority', raw_value: Buffer.from('orders') },
                { key: 'Accept', raw_value: Buffer.from('a') },
                { key: 'accept', raw_value: Buffer.from('b') },
              ],
            },
          },
        },
      },
    });
    const input = checkRequestToInput(request);
    expect(input.host).toBe('orders');
    expect(input.headers.get('accept')).toBe('a,b');
  });

  it('turns an empty request into an input the pipeline will reject, not a crash', () => {
    const input = checkRequestToInput(roundTrip<CheckRequest__Output>('envoy.service.auth.v3.CheckRequest', {}));
    expect(input).toMatchObject({ method: '', host: '', path: '', service: undefined });
  });
});

describe('Decision → CheckResponse', () => {
  it('allows with identity headers set by overwrite and spoofed x-keycard-* headers removed', () => {
    const requestHeaders = new Map([['x-keycard-subject', 'root'], ['x-keycard-admin', 'yes'], ['x-other', '1']]);
    const response = roundTrip<CheckResponse__Output>(
      'envoy.service.auth.v3.CheckResponse',
      decisionToCheckResponse(decision({ identity: alice, roles: ['b', 'a'], service: 'orders', ruleId: 'read' }), requestHeaders),
    );
    expect(response.status?.code).toBe(0);
    expect(response.http_response).toBe('ok_response');
    const headers = response.ok_response!.headers.map((option) => [option.header?.key, option.header?.value, option.append_action]);
    expect(headers).toEqual([
      ['x-keycard-decision-id', 'd-1', 'OVERWRITE_IF_EXISTS_OR_ADD'],
      ['x-keycard-subject', 'alice', 'OVERWRITE_IF_EXISTS_OR_ADD'],
      ['x-keycard-issuer', 'idp', 'OVERWRITE_IF_EXISTS_OR_ADD'],
      ['x-keycard-roles', 'a,b', 'OVERWRITE_IF_EXISTS_OR_ADD'],
    ]);
    expect(response.ok_response!.headers_to_remove).toEqual(['x-keycard-admin']);
    const fields = response.dynamic_metadata?.fields as unknown as Record<string, { string_value: string }>;
    expect(Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, value.string_value]))).toEqual({
      decision_id: 'd-1',
      decision: 'allow',
      reason: 'allowed',
      service: 'orders',
      rule: 'read',
      subject: 'alice',
    });
  });

  it('removes every client identity header when the policy does not forward identity', () => {
    const response = decisionToCheckResponse(decision({ identity: alice, forwardIdentity: false }), new Map([['x-keycard-subject', 'root']]));
    expect(response.ok_response?.headers?.map((option) => option.header?.key)).toEqual(['x-keycard-decision-id']);
    expect(response.ok_response?.headers_to_remove).toEqual(['x-keycard-subject']);
  });

  it('denies authentication failures with 401, status 16 and a Bearer challenge', () => {
    const response = roundTrip<CheckResponse__Output>(
      'envoy.service.auth.v3.CheckResponse',
      decisionToCheckResponse(decision({ allowed: false, reason: 'token_expired', status: 401, service: 'orders' }), new Map()),
    );
    expect(response.status?.code).toBe(16);
    expect(response.http_response).toBe('denied_response');
    expect(response.denied_response?.status?.code).toBe('Unauthorized');
    const headers = Object.fromEntries(response.denied_response!.headers.map((option) => [option.header?.key, option.header?.value]));
    expect(headers['www-authenticate']).toBe('Bearer realm="orders", error="invalid_token", error_description="the token has expired"');
    expect(headers['x-keycard-decision-id']).toBe('d-1');
    expect(JSON.parse(response.denied_response!.body)).toEqual({ error: 'unauthenticated', reason: 'token_expired', message: 'the token has expired', decision_id: 'd-1' });
  });

  it('sends a bare challenge when the credential was missing (RFC 6750 §3.1)', () => {
    const response = decisionToCheckResponse(decision({ allowed: false, reason: 'authentication_required', status: 401 }), new Map());
    const challenge = response.denied_response?.headers?.find((option) => option.header?.key === 'www-authenticate');
    expect(challenge?.header?.value).toBe('Bearer realm="keycard"');
  });

  it.each([
    ['no_matching_rule', 403, 7, 'Forbidden'],
    ['explicit_deny', 403, 7, 'Forbidden'],
    ['unknown_service', 403, 7, 'Forbidden'],
    ['invalid_path', 400, 3, 'BadRequest'],
    ['jwks_unavailable', 503, 14, 'ServiceUnavailable'],
  ] as const)('denies %s with HTTP %d and status %d', (reason, status, code, name) => {
    const response = roundTrip<CheckResponse__Output>(
      'envoy.service.auth.v3.CheckResponse',
      decisionToCheckResponse(decision({ allowed: false, reason, status }), new Map()),
    );
    expect(response.status?.code).toBe(code);
    expect(response.denied_response?.status?.code).toBe(name);
    expect(JSON.parse(response.denied_response!.body).reason).toBe(reason);
    expect(response.denied_response!.headers.some((option) => option.header?.key === 'www-authenticate')).toBe(false);
  });
});

describe('httpStatusNumber', () => {
  it('maps envoy.type.v3.StatusCode names to numbers', () => {
    expect(httpStatusNumber('Forbidden')).toBe(403);
    expect(httpStatusNumber('Unauthorized')).toBe(401);
    expect(httpStatusNumber(503)).toBe(503);
    expect(httpStatusNumber('NoSuchStatus')).toBeUndefined();
  });
});
