// A keycard built in-process from a settings file with a memory store (seeded roles and tuples,
// the order relation schema), and StateContexts over its store: the state commands change the
// very store the pipeline decides with, so a test sees each change take effect.
import { SignJWT, type JWTPayload } from 'jose';
import type { StateChangeRecord } from '../../src/audit/audit-log.js';
import { openKeycard, type OfflineKeycard } from '../../src/cli/offline-keycard.js';
import type { StateContext } from '../../src/cli/state/context.js';
import type { AuthzInput, Decision } from '../../src/pipeline/types.js';
import { jwks, makeKey, TEST_AUDIENCE, TEST_ISSUER, type TestKey } from '../helpers/keys.js';
import { authzInput } from '../helpers/pipeline.js';
import { ORDER_RELATION_RULES, ORDER_RELATIONS_SETTINGS, ORDER_TUPLES } from '../helpers/relations.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

/** The tracking service reads an order for whoever may view it (ReBAC). */
export const TRACKING_POLICY = `service: tracking\n${ORDER_RELATION_RULES}`;

export const HOUR_MS = 3_600_000;

export interface StateFixture {
  readonly workspace: Workspace;
  readonly config: string;
  readonly key: TestKey;
  readonly keycard: OfflineKeycard;
  /** Every state change audited through a context of this fixture, in order. */
  readonly audited: StateChangeRecord[];
  /** A context over the keycard's store: actor `ops`, jwt.maxTokenLifetime 1h and clockSkew 30s. */
  context(overrides?: Partial<StateContext>): StateContext;
  /** A token of the test issuer for `sub`; `iat: null` leaves iat out. */
  token(sub: string, claims?: Omit<JWTPayload, 'iat'> & { iat?: number | null }): Promise<string>;
  /** Decides a request with a bearer token, through the pipeline keycard serves with. */
  decide(service: string, path: string, token: string, method?: string): Promise<Decision>;
  close(): Promise<void>;
}

export async function stateFixture(): Promise<StateFixture> {
  const key = await makeKey('ES256');
  const workspace = new Workspace().writeAll({
    'jwks.json': jwks(key),
    'seed.yaml': `${SEED}tuples: ${JSON.stringify(ORDER_TUPLES)}\n`,
    'policies/orders.yaml': ORDERS_POLICY,
    'policies/tracking.yaml': TRACKING_POLICY,
  });
  const config = workspace.write('keycard.yaml', settingsYaml(`jwt: { clockSkew: 30s, maxTokenLifetime: 1h }\n${ORDER_RELATIONS_SETTINGS}`));
  const keycard = await openKeycard(config, { keys: true });
  const audited: StateChangeRecord[] = [];
  return {
    workspace,
    config,
    key,
    keycard,
    audited,
    context: (overrides = {}) => ({
      store: keycard.keycard.store,
      relationSchema: keycard.relationSchema,
      jwt: { maxTokenLifetime: HOUR_MS, clockSkew: 30_000 },
      actor: 'ops',
      audit: { stateChange: (change) => void audited.push(change) },
      now: Date.now,
      ...overrides,
    }),
    async token(sub, { iat, ...claims } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject(sub).setExpirationTime(now + 600);
      if (iat !== null) jwt.setIssuedAt(iat ?? now);
      return jwt.sign(key.privateKey);
    },
    decide(service, path, token, method = 'GET') {
      const input: AuthzInput = { ...authzInput(service, path), method, headers: new Map([['authorization', `Bearer ${token}`]]) };
      return keycard.keycard.pipeline.decide(input);
    },
    async close() {
      await keycard.close();
      workspace.remove();
    },
  };
}
