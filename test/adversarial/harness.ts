// The adversarial suite's world: a real keycard process (dist/cli.js serve) with a JWKS-file
// issuer, an HTTP JWKS issuer and one issuer per misbehaving JWKS endpoint, four policies, and a
// context the case tables use to build tokens and CheckRequests.
import { randomBytes } from 'node:crypto';
import { CompactEncrypt, type JWK } from 'jose';
import { check, createCheckClient } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckRequest } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { launchKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import { jwks, makeKey, type TestKey } from '../helpers/keys.js';
import type { Workspace } from '../helpers/workspace.js';
import { huge, json, MIB, redirect, silent, startJwksServer, text, trickle, type JwksServer } from './jwks-server.js';
import { compact, jsonMembers, nowSeconds, type Signer } from './tokens.js';

export const AUDIENCE = 'shop';

/** Issuers whose JWKS endpoint misbehaves, by name: the route that serves their "keys". */
export const BROKEN_ISSUERS = [
  'slow',
  'trickle',
  'redirect',
  'garbage',
  'huge',
  'huge-chunked',
  'oct',
  'error',
  'not-jwks',
] as const;

/** Issuers whose JWKS loads but can never verify the token the case sends. */
export const KEYLESS_ISSUERS = ['none-alg', 'empty', 'odd-kty'] as const;

export type IssuerName = 'file' | 'http' | (typeof BROKEN_ISSUERS)[number] | (typeof KEYLESS_ISSUERS)[number];

/** The `iss` of an issuer. */
export const iss = (name: IssuerName): string => `https://${name}-idp.test/`;

/** How long keycard waits for the slow JWKS endpoints (their issuers' jwksTimeout). */
export const JWKS_TIMEOUT_MS = 300;

export interface Keys {
  /** ES256, in file-idp's JWKS file. */
  readonly file: TestKey;
  /** RS256, also in file-idp's JWKS file. */
  readonly fileRs: TestKey;
  /** RS256, served by http-idp's JWKS endpoint. */
  readonly http: TestKey;
  /** ES256, published nowhere keycard looks. */
  readonly attacker: TestKey;
  /** ES256, published by none-alg-idp with `alg: none`. */
  readonly noneAlg: TestKey;
}

export interface TokenSpec {
  /** Header members; `undefined` removes a default (alg, kid, typ). Order is kept. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Claims; `undefined` removes a default (iss, aud, sub, iat, exp). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Signing key (default keys.file); its alg and kid are the header defaults. */
  readonly key?: TestKey;
  /** Overrides how the signature is made (HMAC, a raw signature). */
  readonly signer?: Signer;
}

/** What a case may use to build its request. */
export interface Ctx {
  readonly keys: Keys;
  readonly server: JwksServer;
  /** A compact JWS: default header {alg, kid, typ: JWT}, claims {iss: file-idp, aud, sub: alice, iat, exp: +10m}. */
  jwt(spec?: TokenSpec): string;
  /** `Bearer <jwt(spec)>`. */
  bearer(spec?: TokenSpec): string;
  /** A real compact JWE (dir, A256GCM) of valid claims: encrypted, not signed. */
  readonly jwe: string;
}

export interface RequestSpec {
  readonly method?: string;
  readonly host?: string;
  readonly path: string;
  /** Envoy's `headers` map (lower-cased by Envoy; sent as given here). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Envoy's `header_map` (encode_raw_headers): repeated names stay separate entries. */
  readonly headerMap?: readonly (readonly [string, string])[];
  /** context_extensions.service; default `shop`, null routes by host. */
  readonly service?: string | null;
  readonly body?: string;
  readonly sourceAddress?: string;
}

/** A CheckRequest as Envoy builds it: pseudo-headers in the header map, attributes beside them. */
export function checkRequest(spec: RequestSpec): CheckRequest {
  const method = spec.method ?? 'GET';
  const host = spec.host ?? 'shop.example.test';
  const service = spec.service === undefined ? 'shop' : spec.service;
  const headers: Record<string, string> | undefined = spec.headerMap ? undefined : { ':method': method, ':authority': host, ':path': spec.path, ...spec.headers };
  return {
    attributes: {
      source: { address: { socket_address: { address: spec.sourceAddress ?? '127.0.0.1', port_value: 40000 } } },
      request: {
        http: {
          method,
          host,
          path: spec.path,
          protocol: 'HTTP/2',
          scheme: 'https',
          ...(headers && { headers }),
          ...(spec.headerMap && {
            header_map: {
              headers: [
                { key: ':method', raw_value: Buffer.from(method) },
                { key: ':authority', raw_value: Buffer.from(host) },
                { key: ':path', raw_value: Buffer.from(spec.path) },
                ...spec.headerMap.map(([key, value]) => ({ key, raw_value: Buffer.from(value) })),
              ],
            },
          }),
          ...(spec.body !== undefined && { body: spec.body, size: Buffer.byteLength(spec.body) }),
        },
      },
      context_extensions: service === null ? {} : { service },
    },
  };
}

/** Merges `overrides` into `defaults` keeping order; an `undefined` override removes the member. */
function members(defaults: Record<string, unknown>, overrides: Readonly<Record<string, unknown>> = {}): [string, unknown][] {
  const merged: Record<string, unknown> = { ...defaults, ...overrides };
  return Object.entries(merged).filter(([, value]) => value !== undefined);
}

export function makeCtx(keys: Keys, server: JwksServer, jwe: string): Ctx {
  const jwt = (spec: TokenSpec = {}): string => {
    const key = spec.key ?? keys.file;
    const now = nowSeconds();
    const header = jsonMembers(members({ alg: key.alg, kid: key.kid, typ: 'JWT' }, spec.header));
    const payload = jsonMembers(members({ iss: iss('file'), aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 600 }, spec.claims));
    return compact(header, payload, spec.signer ?? { kind: 'key', key });
  };
  return { keys, server, jwt, bearer: (spec) => `Bearer ${jwt(spec)}`, jwe };
}

async function makeJwe(): Promise<string> {
  const now = nowSeconds();
  const claims = JSON.stringify({ iss: iss('file'), aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 600 });
  return new CompactEncrypt(new TextEncoder().encode(claims)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(randomBytes(32));
}

const SEED = `
roleBindings:
  - { subject: alice, roles: [customer] }
  - { subject: sam, roles: [support] }
  - { subject: root, roles: [admin, support] }
`;

/** The storefront: anonymous, role and catch-all rules, and a deny that must hold against every path trick. */
const SHOP_POLICY = `
service: shop
hosts: [shop.example.test]
rules:
  - { id: health, effect: allow, match: { methods: [GET], paths: [/healthz] }, anonymous: true }
  - { id: public, effect: allow, match: { methods: [GET, HEAD], paths: ["/public/**"] }, anonymous: true }
  - id: internal
    effect: allow
    match: { methods: [GET], paths: ["/internal/**"] }
    anonymous: true
    when: [{ sourceCidr: [10.0.0.0/8] }]
  - { id: admin-off, effect: deny, match: { paths: ["/admin/**"] } }
  - { id: read-order, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }] }
  - { id: support-all, effect: allow, match: { paths: ["/**"] }, when: [{ role: support }] }
forward: { identityHeaders: true, permissionsHeader: false }
`;

/** RFC 9068 access tokens only, from file-idp only. */
const API_POLICY = `
service: api
authentication:
  credentials:
    - jwt: { issuers: [file-idp], types: [at+jwt] }
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/**"] }, when: [{ role: customer }] }
`;

/** Identity headers not forwarded: client copies must still be removed. */
const QUIET_POLICY = `
service: quiet
rules:
  - { id: open, effect: allow, match: { methods: [GET], paths: ["/open/**"] }, anonymous: true }
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/**"] }, when: [{ role: customer }] }
forward: { identityHeaders: false }
`;

/** Two credential kinds: a request carrying both is ambiguous. */
const MULTI_POLICY = `
service: multi
authentication:
  credentials:
    - jwt
    - apiKey: { header: x-api-key, query: api_key }
rules:
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/**"] }, when: [{ role: customer }] }
`;

function issuerYaml(name: IssuerName, source: string, extra = ''): string {
  return `
  - name: ${name}-idp
    issuer: ${iss(name)}
    audiences: [${AUDIENCE}]
    ${source}
    ${extra}`;
}

export interface World {
  readonly ctx: Ctx;
  readonly keycard: KeycardProcess;
  readonly workspace: Workspace;
  readonly client: AuthorizationClient;
  /** Sends a Check with a deadline: a hang becomes DEADLINE_EXCEEDED, never a stuck test. */
  send(request: CheckRequest, deadlineMs: number): Promise<CheckResponse__Output>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const [file, fileRs, http, attacker, noneAlg] = await Promise.all([
    makeKey('ES256', 'file-es'),
    makeKey('RS256', 'file-rs'),
    makeKey('RS256', 'http-rs'),
    makeKey('ES256', 'attacker'),
    makeKey('ES256', 'none-alg-key'),
  ]);
  const keys: Keys = { file, fileRs, http, attacker, noneAlg };
  const keyOnly = (jwk: JWK): JWK => ({ ...jwk });
  const server = await startJwksServer({
    '/http/jwks': json(jwks(http)),
    '/slow/jwks': silent,
    '/trickle/jwks': trickle(50),
    // The target would serve the attacker's key: following the redirect would be the bug.
    '/redirect/jwks': redirect('/canary/redirect-target'),
    '/canary/redirect-target': json(jwks(attacker)),
    '/garbage/jwks': text(200, '<html>{"keys": [ this is not JSON'),
    '/huge/jwks': huge(10 * MIB, true, keyOnly(file.publicJwk)),
    '/huge-chunked/jwks': huge(10 * MIB, false, keyOnly(file.publicJwk)),
    '/oct/jwks': json({ keys: [{ kty: 'oct', kid: 'oct', k: randomBytes(32).toString('base64url') }, file.publicJwk] }),
    '/error/jwks': text(500, '{"error":"boom"}'),
    '/not-jwks/jwks': json({ keys: 'none here' }),
    '/none-alg/jwks': json({ keys: [{ ...noneAlg.publicJwk, alg: 'none' }] }),
    '/empty/jwks': json({ keys: [] }),
    '/odd-kty/jwks': json({ keys: [{ kty: 'XYZ', kid: 'odd', alg: 'ES256', x: 'AAAA' }] }),
    // Token-named URLs (jku, x5u) point here; keycard must never ask.
    '/canary/jku': json(jwks(attacker)),
    '/canary/x5u': text(200, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'),
  });
  const uri = (name: string) => `jwksUri: ${server.url(`/${name}/jwks`)}`;
  const settings = `
grpc: { listen: 127.0.0.1:0, maxMessageBytes: ${MIB} }
admin: { listen: 127.0.0.1:0 }
issuers:${issuerYaml('file', 'jwksFile: jwks.json', 'algorithms: [ES256, RS256]')}${issuerYaml('http', uri('http'), 'algorithms: [RS256]')}${BROKEN_ISSUERS.map((name) =>
    issuerYaml(name, uri(name), `algorithms: [ES256]\n    jwksTimeout: ${JWKS_TIMEOUT_MS}ms\n    jwksMinRefreshInterval: 0s`),
  ).join('')}${KEYLESS_ISSUERS.map((name) => issuerYaml(name, uri(name), 'algorithms: [ES256]\n    jwksMinRefreshInterval: 1h')).join('')}
apiKeys: { pepperFile: pepper }
limits: { maxHeaders: 128, maxHeaderBytes: 65536 }
policies: { dir: policies, watch: false }
store: { type: memory, seedFile: seed.yaml }
audit: { output: audit.log }
log: { level: warn }
`;
  let launched;
  try {
    launched = await launchKeycard({
      'keycard.yaml': settings,
      'jwks.json': jwks(file, fileRs),
      pepper: randomBytes(32).toString('base64url'),
      'seed.yaml': SEED,
      'policies/shop.yaml': SHOP_POLICY,
      'policies/api.yaml': API_POLICY,
      'policies/quiet.yaml': QUIET_POLICY,
      'policies/multi.yaml': MULTI_POLICY,
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  const { keycard, workspace } = launched;
  const client = createCheckClient(keycard.grpcAddress);
  return {
    ctx: makeCtx(keys, server, await makeJwe()),
    keycard,
    workspace,
    client,
    send: (request, deadlineMs) => check(client, request, deadlineMs),
    async close() {
      client.close();
      await keycard.stop();
      workspace.remove();
      await server.close();
    },
  };
}
