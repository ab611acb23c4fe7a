// An in-process keycard (real gRPC and admin listeners on port 0) with the decision explorer on,
// a test issuer whose RS256 keys are in a local JWKS file, and a Check client: the world the
// explorer tests send real tokens through.
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
  close(): Promise<void>;
}

export interface ExplorerOptions {
  /** The `explorer:` settings block, as YAML flow mapping contents. */
  readonly explorer?: string;
  /** The admin listener (default 127.0.0.1:0). */
  readonly adminListen?: string;
  readonly policy?: string;
  /** More files for the workspace (another service's policy). */
  readonly files?: Readonly<Record<string, string>>;
}

export async function serveExplorer(options: ExplorerOptions = {}): Promise<ServedExplorer> {
  const key = await makeKey('RS256');
  const workspace = new Workspace().writeAll({
    'keycard.yaml': settingsYaml(`explorer: { ${options.explorer ?? 'enabled: true'} }\n`).replace('admin: { listen: 127.0.0.1:0 }', `admin: { listen: ${options.adminListen ?? '127.0.0.1:0'} }`),
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
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
