// The realistic keycard set-up the load benchmark measures: one issuer (RS256, keys from a JWKS
// file), a service policy of 50 rules with path templates and role conditions, roles from the
// store, identity headers forwarded, audit lines written to a file. And the one request sent: an
// Envoy-shaped CheckRequest that rule r24 allows for alice (role3, from the store).
import { writeFileSync } from 'node:fs';
import { buildCheckRequest } from '../../src/protocol/check-client.js';
import type { CheckRequest } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { jwks, makeKey, signToken, type TestKey } from '../../test/helpers/keys.js';
import { Workspace } from '../../test/helpers/workspace.js';

export const SERVICE = 'catalog';
export const SUBJECT = 'alice';
export const ISSUER = 'https://idp.bench.example/';
export const AUDIENCE = 'shop';
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** The rule the request hits: GET (24 % 4 = 0), role3 (24 % 7 = 3). */
const TARGET_RULE = 24;
export const ROLE_RULES = 48;

/** 48 role-guarded rules with path templates, an anonymous health rule and an explicit deny: 50 rules. */
export function policyYaml(): string {
  const rules = Array.from({ length: ROLE_RULES }, (_, i) => {
    const paths = `["/api/area${i}/items/{id}", "/api/area${i}/items/{id}/parts/**"]`;
    return `  - { id: r${i}, effect: allow, match: { methods: [${METHODS[i % 4]}], paths: ${paths} }, when: [{ role: [role${i % 7}, admin] }] }`;
  });
  return [
    `service: ${SERVICE}`,
    `hosts: [catalog, catalog.shop.svc.cluster.local]`,
    `authentication: { issuers: [bench-idp] }`,
    `rules:`,
    `  - { id: health, effect: allow, match: { methods: [GET], paths: [/healthz] }, anonymous: true }`,
    `  - { id: legacy-off, effect: deny, match: { paths: ["/v1/**"] } }`,
    ...rules,
    '',
  ].join('\n');
}

/** alice holds role3 (global) and a service binding; 500 other subjects hold one role each. As `roleBindings:` entries. */
export function roleBindingLines(): string[] {
  const others = Array.from({ length: 500 }, (_, i) => `  - { subject: user${i}, roles: [role${i % 7}] }`);
  return [`  - { subject: ${SUBJECT}, roles: [role${TARGET_RULE % 7}, reader] }`, `  - { subject: ${SUBJECT}, roles: [editor], service: ${SERVICE} }`, ...others];
}

export function seedYaml(): string {
  return ['roleBindings:', ...roleBindingLines(), ''].join('\n');
}

export interface StoreChoice {
  /** The `store:` settings block (YAML flow mapping). */
  readonly settings: string;
}

export const MEMORY_STORE: StoreChoice = { settings: '{ type: memory, seedFile: seed.yaml }' };

/** `policiesDir`: where the policy files are (the AuthZEN part adds an access policy in a directory of its own). */
export function settingsYaml(store: StoreChoice, policiesDir = 'policies'): string {
  return `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - name: bench-idp
    issuer: ${ISSUER}
    audiences: [${AUDIENCE}]
    jwksFile: jwks.json
    algorithms: [RS256]
policies: { dir: ${policiesDir}, watch: false }
store: ${store.settings}
audit: { output: audit.log }
log: { level: warn }
`;
}

export interface Scenario {
  readonly workspace: Workspace;
  /** The issuer's signing key (the AuthZEN part signs its caller's token with it). */
  readonly key: TestKey;
  readonly token: string;
  readonly request: CheckRequest;
  /** The gRPC frame h2load sends: 5-byte prefix (uncompressed, length) + the serialized request. */
  readonly frame: Buffer;
  readonly frameFile: string;
  /** The same request as a POST carrying an 8 KiB body (Envoy's with_request_body), as a frame file. */
  readonly bodyFrameFile: string;
  /** Writes keycard.yaml for `store` and returns its path. */
  settingsFor(store: StoreChoice, name: string): string;
}

export async function createScenario(): Promise<Scenario> {
  const key = await makeKey('RS256', 'bench-rs256');
  const token = await signToken(key, { iss: ISSUER, aud: AUDIENCE, sub: SUBJECT, expiresIn: 3600, claims: { scope: 'catalog.read', jti: 'bench-token-1' } });
  const workspace = new Workspace().writeAll({ 'jwks.json': jwks(key), 'policies/catalog.yaml': policyYaml(), 'seed.yaml': seedYaml() });
  const request = envoyCheckRequest(token);
  const frame = grpcFrame(request);
  const frameFile = workspace.path('check-request.grpc');
  writeFileSync(frameFile, frame);
  const bodyFrameFile = workspace.path('check-request-body.grpc');
  writeFileSync(bodyFrameFile, grpcFrame(withBody(request, BODY_BYTES)));
  return { workspace, key, token, request, frame, frameFile, bodyFrameFile, settingsFor: (store, name) => workspace.write(name, settingsYaml(store)) };
}

/** Envoy's default max_request_bytes for with_request_body is 8 KiB (envoy/ sends that much). */
const BODY_BYTES = 8192;

function grpcFrame(request: CheckRequest): Buffer {
  const message = authorizationService().service.Check.requestSerialize(request);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** The same GET with a JSON body of `bytes`, as Envoy's with_request_body sends it: still allowed, only heavier on the wire. */
function withBody(request: CheckRequest, bytes: number): CheckRequest {
  const http = request.attributes!.request!.http!;
  const body = `{"items":"${'x'.repeat(bytes - 12)}"}`;
  return {
    ...request,
    attributes: {
      ...request.attributes,
      request: { http: { ...http, body, size: String(bytes), headers: { ...http.headers, 'content-type': 'application/json', 'content-length': String(bytes) } } },
    },
  };
}

/** A GET with the headers an Envoy sidecar typically forwards, the bearer token among them. */
function envoyCheckRequest(token: string): CheckRequest {
  return buildCheckRequest({
    method: 'GET',
    host: 'catalog.shop.svc.cluster.local',
    path: `/api/area${TARGET_RULE}/items/4711?fields=name,price`,
    service: SERVICE,
    sourceAddress: '10.1.2.3',
    headers: {
      authorization: `Bearer ${token}`,
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      accept: 'application/json',
      'accept-encoding': 'gzip, deflate, br',
      'accept-language': 'en-GB,en;q=0.9',
      'x-forwarded-proto': 'https',
      'x-request-id': '6f1c2b7e-0d4a-4c1e-9a55-3f0e7d9b2c11',
      'x-envoy-expected-rq-timeout-ms': '15000',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-sampled': '1',
    },
  });
}
