// keycard's Check codec (what the gRPC server uses) against proto-loader's (what grpc-js would use):
// the same requests read into the same AuthzInput, and every kind of CheckResponse keycard sends
// decodes to the same message from either encoder.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import type { Decision } from '../../src/pipeline/types.js';
import { buildCheckRequest } from '../../src/protocol/check-client.js';
import { decodeCheckRequest, encodeCheckResponse, type KeycardCheckResponse } from '../../src/protocol/check-codec.js';
import { checkRequestToInput, type CheckRequestView } from '../../src/protocol/check-request.js';
import { decisionToCheckResponse } from '../../src/protocol/check-response.js';
import { authorizationService } from '../../src/protocol/proto.js';

const method = authorizationService().service.Check;
const protoLoaderSerialize = method.responseSerialize as (response: KeycardCheckResponse) => Buffer;
const alice = { authenticated: true as const, subject: 'alice', issuer: 'idp', credential: 'jwt' as const, claims: {}, expiresAt: 2e9 };

function decision(overrides: Partial<Decision>): Decision {
  return { id: 'd-1', allowed: true, reason: 'allowed', status: 200, identity: ANONYMOUS, roles: [], forwardIdentity: true, trace: [], durationMs: 0.1, phaseMs: {}, ...overrides };
}

describe('CheckRequest: keycard decoder vs proto-loader', () => {
  const requests: [string, object][] = [
    [
      'headers map, source, context extensions',
      buildCheckRequest({ method: 'post', host: 'Orders:8080', path: '/orders/1?x=1', headers: { Authorization: 'Bearer t', 'X-Request-Id': 'r-1', 'x-ünï': 'välue ✓' }, service: 'orders', sourceAddress: '10.1.2.3' }),
    ],
    [
      'header_map with raw values (encode_raw_headers), repeated names, principal, request id',
      {
        attributes: {
          source: { principal: 'spiffe://cluster.local/ns/shop/sa/web', address: { socket_address: { address: '::1', port_value: 1 } } },
          request: {
            http: {
              id: 'req-9',
              method: 'GET',
              path: '/',
              header_map: {
                headers: [
                  { key: ':authority', raw_value: Buffer.from('orders') },
                  { key: 'Accept', raw_value: Buffer.from('a') },
                  { key: 'accept', raw_value: Buffer.from('b') },
                  { key: 'x-plain', value: 'v' },
                ],
              },
            },
          },
          context_extensions: { service: 'orders', other: 'x' },
        },
      },
    ],
    ['an empty request', {}],
    ['attributes without a request', { attributes: { context_extensions: {} } }],
  ];

  it.each(requests)('%s: the same AuthzInput', (_name, request) => {
    const bytes = method.requestSerialize(request);
    const ours = checkRequestToInput(decodeCheckRequest(bytes));
    const theirs = checkRequestToInput(method.requestDeserialize(bytes) as CheckRequestView);
    expect(ours).toEqual(theirs);
    expect({ ...ours.contextExtensions }).toEqual({ ...theirs.contextExtensions });
  });

  it('reads a header_map raw value as UTF-8', () => {
    const bytes = method.requestSerialize({ attributes: { request: { http: { header_map: { headers: [{ key: 'x-name', raw_value: Buffer.from('Zoë ✓') }] } } } } });
    expect(checkRequestToInput(decodeCheckRequest(bytes)).headers.get('x-name')).toBe('Zoë ✓');
  });
});

describe('CheckResponse: keycard encoder vs proto-loader', () => {
  const spoofed = new Map([['x-keycard-subject', 'root'], ['x-keycard-admin', 'yes'], ['x-other', '1']]);
  const responses: [string, KeycardCheckResponse][] = [
    ['allow with identity headers and headers to remove', decisionToCheckResponse(decision({ identity: alice, roles: ['b', 'a'], service: 'orders', ruleId: 'read' }), spoofed)],
    ['allow with permissions, without identity forwarding', decisionToCheckResponse(decision({ identity: alice, forwardIdentity: false, permissions: ['orders.read'] }), spoofed)],
    ['anonymous allow without headers to remove', decisionToCheckResponse(decision({}), new Map())],
    ['dry-run allow', decisionToCheckResponse(decision({ dryRun: { reason: 'explicit_deny', ruleId: 'no-v1' }, service: 'orders' }), new Map())],
    ['401 with a challenge', decisionToCheckResponse(decision({ allowed: false, reason: 'token_expired', status: 401, service: 'orders' }), new Map())],
    [
      '401 step-up with acr values and max age',
      decisionToCheckResponse(decision({ allowed: false, reason: 'insufficient_user_authentication', status: 401, challenge: { acrValues: ['urn:mfa'], maxAgeSeconds: 600 } }), new Map()),
    ],
    ['403 with a JSON body', decisionToCheckResponse(decision({ allowed: false, reason: 'no_matching_rule', status: 403, identity: alice }), new Map())],
    ['400', decisionToCheckResponse(decision({ allowed: false, reason: 'invalid_path', status: 400 }), new Map())],
    ['503', decisionToCheckResponse(decision({ allowed: false, reason: 'store_unavailable', status: 503 }), new Map())],
    ['a status message and body with non-ASCII text', { status: { code: 7, message: 'nein – ✗' }, denied_response: { status: { code: 403 }, headers: [], body: '{"m":"für ✓"}' } }],
  ];

  it.each(responses)('%s: decodes to the same message', (_name, response) => {
    const ours = method.responseDeserialize(encodeCheckResponse(response));
    const theirs = method.responseDeserialize(protoLoaderSerialize(response));
    expect(ours).toEqual(theirs);
  });

  it('returns a Buffer, as grpc-js expects', () => {
    expect(Buffer.isBuffer(encodeCheckResponse(responses[0]![1]))).toBe(true);
  });
});
