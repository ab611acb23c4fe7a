// An in-process keycard (real gRPC and admin listeners on port 0) with the decision explorer on,
// a test issuer whose RS256 keys are in a local JWKS file, and a Check client: the world the
// explorer tests send real tokens through. With `authzen: true`, also the AuthZEN listener and a
// documents service whose access rules it answers (access decisions for the explorer).
import { Keycard } from '../../src/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { buildCheckRequest, check, createCheckClient, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

export const ADMIN_TOKEN = 'explorer-admin-token-0123456789abcdef';

export interface ServedExplorer {
  readonly keycard: Keycard;
  readonly workspace: Workspace;
  readonly key: TestKey;
  readonly client: AuthorizationClient;
  readonly adminUrl: string;
  /** Every bearer token sent so far: none may ever show up in the explorer. */
  readonly tokens: string[];
  /** A Check for the orders service; with `subject`, carrying a fresh RS256 token for it. */
  ask(spec: HttpRequestSpec, subject?: string, claims?: Record<string, unknown>): Promise<CheckResponse__Output>;
  /** An AuthZEN evaluation (with `authzen: true`), asked by the docs service's caller with a fresh token. */
  evaluate(question: object): Promise<{ status: number; body: { decision?: boolean; context?: Record<string, unknown> } }>;
  /** A POST to an AuthZEN endpoint (e.g. /access/v1/search/action) as the docs service's caller. */
  authzen(path: string, body: object): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Access rules for AuthZEN: customers and support read documents; only a document's owner (by e-mail) edits it. */
export const DOCS_POLICY = `
service: docs
hosts: [docs.shop.svc]
authentication: { issuers: [test-idp] }
authzen:
  callers: [{ subject: svc-docs }]
rules:
  - id: read-docs
    effect: allow
    match: { actions: [can_read], resources: [document] }
    when: [{ role: [customer, support] }]
  - id: edit-own
    effect: allow
    match: { actions: [can_edit], resources: [document] }
    when: [{ attribute: { name: resource.properties.owner, equals: { attribute: subject.properties.email } } }]
`;

/** The directory e-mail of sam: a property value the explorer must never show. */
export const SAM_EMAIL = 'sam-directory-mail@example.com';

const AUTHZEN_SETTINGS = `
authzen:
  listen: 127.0.0.1:0
  authentication: { credentials: [{ jwt: { issuers: [test-idp] } }] }
`;

export interface ExplorerOptions {
  /** The `explorer:` settings block, as YAML flow mapping contents. */
  readonly explorer?: string;
  /** The admin listener (default 127.0.0.1:0). */
  readonly adminListen?: string;
  readonly policy?: string;
  /** More files for the workspace (another service's policy). */
  readonly files?: Readonly<Record<string, string>>;
  /** The AuthZEN listener and the docs policy (DOCS_POLICY), sam's e-mail in the subject directory. */
  readonly authzen?: boolean;
}

export async function serveExplorer(options: ExplorerOptions = {}): Promise<ServedExplorer> {
  const key = await makeKey('RS256');
  const workspace = new Workspace().writeAll({
    'keycard.yaml': settingsYaml(`explorer: { ${options.explorer ?? 'enabled: true'} }\n${options.authzen ? AUTHZEN_SETTINGS : ''}`).replace(
      'admin: { listen: 127.0.0.1:0 }',
      `admin: { listen: ${options.adminListen ?? '127.0.0.1:0'} }`,
    ),
    'jwks.json': jwks(key),
    'seed.yaml': options.authzen ? `${SEED}subjects:\n  - { id: sam, properties: { email: ${SAM_EMAIL} } }\n` : SEED,
    ...(options.authzen && { 'policies/docs.yaml': DOCS_POLICY }),
    'policies/orders.yaml': options.policy ?? ORDERS_POLICY,
    'admin-token': `${ADMIN_TOKEN}\n`,
    ...options.files,
  });
  const keycard = new Keycard(loadSettings(workspace.path('keycard.yaml')), createLogger('silent'));
  let ports;
  try {
    ports = await keycard.start();
  } catch (error) {
    await keycard.stop().catch(() => undefined);
    workspace.remove();
    throw error;
  }
  const host = options.adminListen?.split(':')[0] ?? '127.0.0.1';
  const client = createCheckClient(`127.0.0.1:${ports.grpc}`);
  const tokens: string[] = [];
  const authzen = async (path: string, body: object) => {
    if (ports.authzen === undefined) throw new Error('serveExplorer({ authzen: true }) serves AuthZEN');
    const token = await signToken(key, { sub: 'svc-docs' });
    tokens.push(token);
    const response = await fetch(`http://127.0.0.1:${ports.authzen}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    keycard,
    workspace,
    key,
    client,
    adminUrl: `http://${host}:${ports.admin}`,
    tokens,
    async ask(spec, subject, claims) {
      const headers = { ...spec.headers };
      if (subject !== undefined) {
        const token = await signToken(key, { sub: subject, ...(claims && { claims }) });
        tokens.push(token);
        headers.authorization = `Bearer ${token}`;
      }
      return check(client, buildCheckRequest({ service: 'orders', ...spec, headers }));
    },
    async evaluate(question) {
      return (await authzen('/access/v1/evaluation', question)) as { status: number; body: { decision?: boolean; context?: Record<string, unknown> } };
    },
    authzen,
    async close() {
      client.close();
      await keycard.stop();
      workspace.remove();
    },
  };
}

/** The parts of a JWT (header, payload, signature): not even one of them may leak. */
export function tokenParts(tokens: readonly string[]): string[] {
  return tokens.flatMap((token) => [token, ...token.split('.')]);
}
