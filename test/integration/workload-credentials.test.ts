// keycard as a real process, asked over gRPC the way Envoy asks it: an mTLS peer
// (source.principal), a JWT payload Envoy's jwt_authn verified (metadata_context), a trusted
// proxy's x-forwarded-client-cert, and opaque tokens checked against a real RFC 7662
// introspection server. Each answer is checked down to its reason.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, httpStatusNumber, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { withPeerAndMetadata, type PeerAndMetadata } from '../helpers/check-metadata.js';
import { responseHeader, serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { signToken, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/keys.js';
import { settingsYaml } from '../helpers/workspace.js';

const CHECKOUT = 'spiffe://cluster.local/ns/shop/sa/checkout';
const WEB = 'spiffe://cluster.local/ns/web/sa/frontend';
const GATEWAY = 'spiffe://cluster.local/ns/gateway/sa/edge';
const CLIENT_SECRET = 'introspection-client-secret';

const ORDERS = `
service: orders
authentication:
  credentials: [{ envoyJwt: { issuers: [test-idp] } }, mtls]
rules:
  - id: user-via-shop
    effect: allow
    match: { paths: ["/orders/**"] }
    when: [{ role: customer }, { principal: "spiffe://cluster.local/ns/shop/*" }]
  - id: services
    effect: allow
    match: { paths: ["/internal/**"] }
    when: [{ role: checkout-service }]
`;

const LEGACY = `
service: legacy
authentication:
  credentials: [jwt, { introspection: { endpoints: [legacy-idp] } }]
rules:
  - { id: read, effect: allow, when: [{ role: customer }, { scope: legacy:read }] }
`;

const MESH = `
service: mesh
authentication:
  credentials: [{ mtls: { forwardedClientCert: true } }]
rules:
  - { id: services, effect: allow, when: [{ role: checkout-service }] }
`;

const SEED = `
roleBindings:
  - { subject: alice, roles: [customer] }
  - { subject: olga, roles: [customer] }
  - { subject: "${CHECKOUT}", roles: [checkout-service] }
`;

/** The introspection server: which tokens are active, and how often it was asked. */
const introspection = {
  server: undefined as Server | undefined,
  calls: [] as string[],
  authorizations: new Set<string | undefined>(),
  active: { 'opaque-olga': { sub: 'olga', scope: 'legacy:read', client_id: 'portal' }, 'opaque-no-scope': { sub: 'olga', scope: 'other' } } as Record<string, object>,
};

let served: ServedKeycard;

beforeAll(async () => {
  introspection.server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      introspection.calls.push(token);
      introspection.authorizations.add(request.headers.authorization);
      if (token === 'opaque-broken') {
        response.writeHead(500).end();
        return;
      }
      const exp = Math.floor(Date.now() / 1000) + 300;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(Object.hasOwn(introspection.active, token) ? { active: true, exp, ...introspection.active[token] } : { active: false }));
    });
  });
  await new Promise<void>((resolve) => introspection.server!.listen(0, '127.0.0.1', resolve));
  const port = (introspection.server.address() as AddressInfo).port;
  served = await serveKeycard(
    settingsYaml(`
introspection:
  - name: legacy-idp
    endpoint: http://127.0.0.1:${port}/introspect
    clientId: keycard
    clientSecretFile: introspection-secret
    timeout: 1s
network: { trustedProxies: [10.0.0.0/8] }
http: { listen: 127.0.0.1:0 }
`),
    {
      'seed.yaml': SEED,
      'introspection-secret': `${CLIENT_SECRET}\n`,
      'policies/orders.yaml': ORDERS,
      'policies/legacy.yaml': LEGACY,
      'policies/mesh.yaml': MESH,
    },
  );
});

afterAll(async () => {
  await served?.close();
  introspection.server?.closeAllConnections();
  await new Promise<void>((resolve) => (introspection.server ? introspection.server.close(() => resolve()) : resolve()));
});

function ask(spec: HttpRequestSpec, peer: PeerAndMetadata = {}): Promise<CheckResponse__Output> {
  return check(served.client, withPeerAndMetadata(buildCheckRequest(spec), peer));
}

/** HTTP status and keycard's reason of an answer ("200 allowed" for an allow). */
function verdict(response: CheckResponse__Output): string {
  if (response.ok_response) return '200 allowed';
  const body = JSON.parse(response.denied_response?.body ?? '{}') as { reason?: string };
  return `${httpStatusNumber(response.denied_response?.status?.code)} ${body.reason}`;
}

const now = () => Math.floor(Date.now() / 1000);
const jwtAuthn = (payload: Record<string, unknown>) => ({ 'envoy.filters.http.jwt_authn': { jwt_payload: { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now(), exp: now() + 300, ...payload } } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('envoyJwt and mtls (service orders)', () => {
  it('allows alice, verified by Envoy, calling through a shop workload', async () => {
    const response = await ask({ service: 'orders', path: '/orders/7' }, { principal: CHECKOUT, metadata: jwtAuthn({ sub: 'alice' }) });
    expect(verdict(response)).toBe('200 allowed');
    expect(responseHeader(response, 'x-keycard-subject')).toBe('alice');
    expect(responseHeader(response, 'x-keycard-issuer')).toBe('test-idp');
  });

  it('denies alice through a workload outside ns/shop, and without mTLS', async () => {
    expect(verdict(await ask({ service: 'orders', path: '/orders/7' }, { principal: WEB, metadata: jwtAuthn({ sub: 'alice' }) }))).toBe('403 no_matching_rule');
    expect(verdict(await ask({ service: 'orders', path: '/orders/7' }, { metadata: jwtAuthn({ sub: 'alice' }) }))).toBe('403 no_matching_rule');
  });

  it('refuses a bearer token Envoy did not verify: 401 token_not_verified_by_proxy', async () => {
    const token = await signToken(served.key, { sub: 'alice' });
    const response = await ask({ service: 'orders', path: '/orders/7', headers: bearer(token) }, { principal: CHECKOUT });
    expect(verdict(response)).toBe('401 token_not_verified_by_proxy');
    expect(responseHeader(response, 'www-authenticate')).toContain('error="invalid_token"');
  });

  it('checks the payload again: a foreign audience, an unknown issuer, an expired payload', async () => {
    expect(verdict(await ask({ service: 'orders', path: '/orders/7' }, { principal: CHECKOUT, metadata: jwtAuthn({ sub: 'alice', aud: 'billing' }) }))).toBe('401 invalid_audience');
    expect(verdict(await ask({ service: 'orders', path: '/orders/7' }, { principal: CHECKOUT, metadata: jwtAuthn({ sub: 'alice', iss: 'https://evil.example/' }) }))).toBe('401 untrusted_issuer');
    expect(verdict(await ask({ service: 'orders', path: '/orders/7' }, { principal: CHECKOUT, metadata: jwtAuthn({ sub: 'alice', exp: now() - 120 }) }))).toBe('401 token_expired');
  });

  it('authenticates the checkout workload itself by its SPIFFE ID, with roles from the store', async () => {
    const response = await ask({ service: 'orders', path: '/internal/stock' }, { principal: CHECKOUT });
    expect(verdict(response)).toBe('200 allowed');
    expect(responseHeader(response, 'x-keycard-subject')).toBe(CHECKOUT);
    expect(responseHeader(response, 'x-keycard-issuer')).toBe('mtls');
    expect(verdict(await ask({ service: 'orders', path: '/internal/stock' }, { principal: WEB }))).toBe('403 no_matching_rule');
  });

  it('refuses a malformed peer identity: 401 invalid_peer_identity', async () => {
    expect(verdict(await ask({ service: 'orders', path: '/internal/stock' }, { principal: 'spiffe://cluster.local/ns/shop/../admin' }))).toBe('401 invalid_peer_identity');
  });
});

describe('x-forwarded-client-cert (service mesh)', () => {
  const xfcc = { 'x-forwarded-client-cert': `By=${GATEWAY};Hash=abc;Subject="CN=checkout";URI=${CHECKOUT}` };

  it('is believed from a trusted proxy', async () => {
    const response = await ask({ service: 'mesh', path: '/x', headers: xfcc, sourceAddress: '10.0.0.5' }, { principal: GATEWAY });
    expect(verdict(response)).toBe('200 allowed');
    expect(responseHeader(response, 'x-keycard-subject')).toBe(CHECKOUT);
  });

  it('is ignored from any other peer', async () => {
    expect(verdict(await ask({ service: 'mesh', path: '/x', headers: xfcc, sourceAddress: '192.0.2.1' }, { principal: WEB }))).toBe('403 no_matching_rule');
    expect(verdict(await ask({ service: 'mesh', path: '/x', headers: xfcc, sourceAddress: '192.0.2.1' }))).toBe('401 authentication_required');
  });

  it('a malformed header from a trusted proxy: 401 invalid_peer_identity', async () => {
    expect(verdict(await ask({ service: 'mesh', path: '/x', headers: { 'x-forwarded-client-cert': 'URI="unterminated' }, sourceAddress: '10.0.0.5' }))).toBe('401 invalid_peer_identity');
  });
});

describe('opaque tokens via introspection (service legacy)', () => {
  it('allows an active token with the scope, asking the endpoint once, with the client credentials', async () => {
    const before = introspection.calls.length;
    for (let i = 0; i < 3; i++) {
      const response = await ask({ service: 'legacy', path: '/reports', headers: bearer('opaque-olga') });
      expect(verdict(response)).toBe('200 allowed');
      expect(responseHeader(response, 'x-keycard-subject')).toBe('olga');
      expect(responseHeader(response, 'x-keycard-issuer')).toBe('legacy-idp');
    }
    expect(introspection.calls.slice(before)).toEqual(['opaque-olga']);
    expect([...introspection.authorizations]).toEqual([`Basic ${Buffer.from(`keycard:${CLIENT_SECRET}`).toString('base64')}`]);
  });

  it('an active token without the scope: 403 insufficient_scope', async () => {
    expect(verdict(await ask({ service: 'legacy', path: '/reports', headers: bearer('opaque-no-scope') }))).toBe('403 insufficient_scope');
  });

  it('an inactive token: 401 token_inactive; an endpoint failing: 503 introspection_unavailable', async () => {
    expect(verdict(await ask({ service: 'legacy', path: '/reports', headers: bearer('opaque-unknown') }))).toBe('401 token_inactive');
    expect(verdict(await ask({ service: 'legacy', path: '/reports', headers: bearer('opaque-broken') }))).toBe('503 introspection_unavailable');
  });

  it('a JWS on the same header is verified as a JWT, never sent to the introspection endpoint', async () => {
    const token = await signToken(served.key, { sub: 'alice', claims: { scope: 'legacy:read' } });
    expect(verdict(await ask({ service: 'legacy', path: '/reports', headers: bearer(token) }))).toBe('200 allowed');
    expect(introspection.calls).not.toContain(token);
  });

  it('counts calls and cache lookups by endpoint and result, and never logs the token or the secret', async () => {
    const metrics = await served.metrics();
    expect(metrics).toMatch(/keycard_introspection_requests_total\{endpoint="legacy-idp",result="active"\} 2/);
    expect(metrics).toMatch(/keycard_introspection_requests_total\{endpoint="legacy-idp",result="inactive"\} 1/);
    expect(metrics).toMatch(/keycard_introspection_requests_total\{endpoint="legacy-idp",result="http_error"\} 1/);
    expect(metrics).toMatch(/keycard_introspection_cache_lookups_total\{endpoint="legacy-idp",result="hit"\} 2/);
    const logs = served.keycard.stderr();
    expect(logs).toContain('token introspection failed');
    expect(logs).not.toContain('opaque-broken');
    expect(logs).not.toContain(CLIENT_SECRET);
  });
});

describe('the HTTP check mode (no peer certificate, no filter metadata)', () => {
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${served.keycard.httpUrl}${path}`, { headers });
    const text = await response.text();
    return `${response.status} ${response.ok ? 'allowed' : (JSON.parse(text) as { reason?: string }).reason}`;
  };

  it('answers without crashing: no mTLS peer, no jwt_authn payload, opaque tokens still introspected', async () => {
    expect(await get('/service/orders/internal/stock')).toBe('401 authentication_required');
    expect(await get('/service/orders/orders/7', bearer(await signToken(served.key, { sub: 'alice' })))).toBe('401 token_not_verified_by_proxy');
    expect(await get('/service/legacy/reports', bearer('opaque-olga'))).toBe('200 allowed');
  });
});
