// The internal identity token end to end: `keycard keygen` makes the signing key, a real keycard
// process signs a token for allowed Checks (gRPC and the HTTP check mode) that verifies against
// the admin port's /.well-known/jwks.json, client copies never pass, denies carry none, the audit
// log never holds one, a bad key file stops the start, and a cluster primary publishes the keys.
import { readFileSync, statSync, mkdirSync } from 'node:fs';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckRequest, check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { AdminServer } from '../../src/server/admin-server.js';
import { waitForAuditLine } from '../helpers/audit.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { responseHeader, runCli, startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

const INTERNAL_ISSUER = 'https://keycard.test';
const SETTINGS = settingsYaml(`http: { listen: 127.0.0.1:0 }
internalToken: { signingKeyFile: keys/internal.jwk.json, issuer: ${INTERNAL_ISSUER}, lifetime: 2m }
`);
const POLICY = `${ORDERS_POLICY}forward: { identityToken: true }\n`;

/** A workspace with the settings, the test issuer's keys, the seed, the policy and a key made by `keycard keygen`. */
async function workspaceWithKey(key: TestKey, settings = SETTINGS): Promise<{ workspace: Workspace; publicJwk: JWK; keyFile: string }> {
  const workspace = new Workspace().writeAll({ 'keycard.yaml': settings, 'jwks.json': jwks(key), 'seed.yaml': SEED, 'policies/orders.yaml': POLICY });
  mkdirSync(workspace.path('keys'));
  const keyFile = workspace.path('keys/internal.jwk.json');
  const run = await runCli(['keygen', '--alg', 'ES256', '--kid', 'kc-1', '--out', keyFile]);
  expect(run.code, run.stderr).toBe(0);
  return { workspace, publicJwk: JSON.parse(run.stdout) as JWK, keyFile };
}

function verifier(adminUrl: string) {
  const keySet = createRemoteJWKSet(new URL(`${adminUrl}/.well-known/jwks.json`));
  return async (token: string | undefined): Promise<JWTPayload> => {
    expect(token).toBeDefined();
    const { payload } = await jwtVerify(token!, keySet, { issuer: INTERNAL_ISSUER, audience: 'orders', typ: 'keycard-id+jwt' });
    return payload;
  };
}

describe('keycard keygen', () => {
  let workspace: Workspace;
  afterAll(() => workspace?.remove());

  it('writes a private JWK readable by its owner only and prints the public JWK', async () => {
    workspace = new Workspace();
    const file = workspace.path('k.json');
    const run = await runCli(['keygen', '--alg', 'EdDSA', '--kid', 'ed-1', '--out', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    expect(privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'ed-1', alg: 'EdDSA', use: 'sig' });
    expect(typeof privateJwk.d).toBe('string');
    const publicJwk = JSON.parse(run.stdout) as JWK;
    expect(publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: privateJwk.x, kid: 'ed-1', alg: 'EdDSA', use: 'sig' });
  });

  it('never overwrites a key, and refuses an unknown algorithm', async () => {
    workspace ??= new Workspace();
    const file = workspace.write('existing.json', 'keep me');
    const again = await runCli(['keygen', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists');
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const hmac = await runCli(['keygen', '--alg', 'HS256']);
    expect(hmac.code).toBe(2);
    expect(hmac.stderr).toContain('--alg: "HS256" is not one of ES256, ES384, EdDSA, RS256, PS256');
  });

  it('prints the private JWK without --out, with a kid of its own', async () => {
    const run = await runCli(['keygen', '--alg', 'RS256']);
    expect(run.code, run.stderr).toBe(0);
    const jwk = JSON.parse(run.stdout) as JWK;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwk.kid).toMatch(/^keycard-\d{4}-\d{2}-\d{2}-[0-9a-f]{6}$/);
    expect(typeof jwk.d).toBe('string');
  });
});

describe('a keycard that signs identity tokens', () => {
  let key: TestKey;
  let workspace: Workspace;
  let publicJwk: JWK;
  let keycard: KeycardProcess;
  let client: AuthorizationClient;
  let verify: ReturnType<typeof verifier>;

  beforeAll(async () => {
    key = await makeKey('ES256');
    ({ workspace, publicJwk } = await workspaceWithKey(key));
    keycard = await startKeycard(workspace.path('keycard.yaml'));
    client = createCheckClient(keycard.grpcAddress);
    verify = verifier(keycard.adminUrl);
  });
  afterAll(async () => {
    client?.close();
    await keycard?.stop();
    workspace?.remove();
  });

  const ask = async (spec: { method?: string; path: string; headers?: Record<string, string> }, subject?: string): Promise<CheckResponse__Output> => {
    const headers = { ...spec.headers, ...(subject && { authorization: `Bearer ${await signToken(key, { sub: subject })}` }) };
    return check(client, buildCheckRequest({ service: 'orders', ...spec, headers }));
  };

  it('publishes the public key on the admin port, cacheable for 5 minutes', async () => {
    const response = await fetch(`${keycard.adminUrl}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('max-age=300');
    expect(await response.json()).toEqual({ keys: [publicJwk] });
  });

  it('sends an allowed caller’s identity to the service as a token that verifies against that key set', async () => {
    const response = await ask({ path: '/orders/42', headers: { 'x-keycard-token': 'forged' } }, 'alice');
    expect(response.status?.code).toBe(0);
    const token = responseHeader(response, 'x-keycard-token');
    expect(token).not.toBe('forged');
    const option = response.ok_response!.headers.find((header) => header.header?.key === 'x-keycard-token');
    expect(option?.append_action).toBe('OVERWRITE_IF_EXISTS_OR_ADD');
    const payload = await verify(token);
    expect(payload).toMatchObject({ sub: 'alice', aud: 'orders', roles: ['customer'], cred: 'jwt', idp: 'test-idp' });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(decodeProtectedHeader(token!)).toMatchObject({ alg: 'ES256', kid: 'kc-1' });
    // The same caller again within half the lifetime: the same token, not a new signature.
    expect(responseHeader(await ask({ path: '/orders/43' }, 'alice'), 'x-keycard-token')).toBe(token);
    // Another caller, other roles.
    expect(await verify(responseHeader(await ask({ path: '/orders/43' }, 'sam'), 'x-keycard-token'))).toMatchObject({ sub: 'sam', roles: ['support'] });
  });

  it('removes a client-sent copy when it sets none (an anonymous allow)', async () => {
    const response = await ask({ path: '/healthz', headers: { 'x-keycard-token': 'forged' } });
    expect(response.status?.code).toBe(0);
    expect(responseHeader(response, 'x-keycard-token')).toBeUndefined();
    expect(response.ok_response?.headers_to_remove).toContain('x-keycard-token');
  });

  it('sends no token with a deny', async () => {
    const response = await ask({ method: 'POST', path: '/orders/42/refund', headers: { 'x-keycard-token': 'forged' } }, 'alice');
    expect(response.status?.code).toBe(7);
    expect(responseHeader(response, 'x-keycard-token')).toBeUndefined();
    expect(response.denied_response?.body).not.toMatch(/eyJ/);
  });

  it('sends it in the HTTP check mode too, and strips client copies there', async () => {
    const token = await signToken(key, { sub: 'fiona' });
    const allowed = await fetch(`${keycard.httpUrl}/service/orders/orders/7/refund`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-keycard-token': 'forged' } });
    expect(allowed.status).toBe(200);
    expect(await verify(allowed.headers.get('x-keycard-token') ?? undefined)).toMatchObject({ sub: 'fiona', roles: ['finance'] });
    const anonymous = await fetch(`${keycard.httpUrl}/service/orders/healthz`, { headers: { 'x-keycard-token': 'forged' } });
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('x-keycard-token')).toBeNull();
    expect(anonymous.headers.get('x-envoy-auth-headers-to-remove')).toContain('x-keycard-token');
    const denied = await fetch(`${keycard.httpUrl}/service/orders/orders/7`, { headers: { authorization: `Bearer ${token}` } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-keycard-token')).toBeNull();
  });

  it('never writes the token to the audit log', async () => {
    const response = await ask({ path: '/orders/44' }, 'alice');
    const token = responseHeader(response, 'x-keycard-token')!;
    const line = await waitForAuditLine(workspace.path('audit.log'), responseHeader(response, 'x-keycard-decision-id')!);
    expect(line).toMatchObject({ subject: 'alice', decision: 'allow' });
    const signature = token.split('.')[2]!;
    expect(readFileSync(workspace.path('audit.log'), 'utf8')).not.toContain(signature);
    expect(keycard.stderr()).not.toContain(signature);
  });
});

describe('a bad signing key', () => {
  let workspace: Workspace;
  afterAll(() => workspace?.remove());

  it.each([['one process', '1'], ['a cluster primary', '2']])('stops the start with an error naming the file (%s)', async (_what, workers) => {
    const key = await makeKey('ES256');
    let keyFile: string;
    ({ workspace, keyFile } = await workspaceWithKey(key));
    const { d: _d, ...publicOnly } = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    workspace.write('keys/internal.jwk.json', publicOnly);
    const run = await runCli(['serve', '--config', workspace.path('keycard.yaml'), '--grpc-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--workers', workers]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${keyFile} [invalid_value] internalToken.signingKeyFile: the internal token signing key is a public key`);
    expect(run.stdout).not.toContain('keycard listening');
    workspace.remove();
  });
});

describe('with --workers 2', () => {
  let workspace: Workspace;
  let keycard: KeycardProcess;
  afterAll(async () => {
    await keycard?.stop();
    workspace?.remove();
  });

  it('the primary publishes the key the workers sign with', async () => {
    const key = await makeKey('ES256');
    let publicJwk: JWK;
    ({ workspace, publicJwk } = await workspaceWithKey(key));
    keycard = await startKeycard(workspace.path('keycard.yaml'), ['--workers', '2']);
    const response = await fetch(`${keycard.adminUrl}/.well-known/jwks.json`);
    expect(response.headers.get('cache-control')).toBe('max-age=300');
    expect(await response.json()).toEqual({ keys: [publicJwk] });
    const client = createCheckClient(keycard.grpcAddress);
    try {
      const answer = await check(client, buildCheckRequest({ service: 'orders', path: '/orders/1', headers: { authorization: `Bearer ${await signToken(key, { sub: 'alice' })}` } }));
      expect(await verifier(keycard.adminUrl)(responseHeader(answer, 'x-keycard-token'))).toMatchObject({ sub: 'alice', roles: ['customer'] });
    } finally {
      client.close();
    }
  });
});

describe('without internalToken', () => {
  it('the admin port has no key set (404)', async () => {
    const admin = new AdminServer({ listen: { host: '127.0.0.1', port: 0 }, registry: { contentType: 'text/plain', metrics: async () => '' }, readiness: () => ({ ready: true, problems: [] }), jwks: () => undefined });
    const port = await admin.start();
    try {
      expect((await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).status).toBe(404);
    } finally {
      await admin.stop();
    }
  });
});
