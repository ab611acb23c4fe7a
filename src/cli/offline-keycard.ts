// A keycard built from the settings file for deciding in-process (check, test): the configured
// policies, store and relations, with no listeners, no audit output, no policy watching and no
// tracer (whatever the settings or the OTEL_* variables say).
import { Keycard, type KeycardOptions } from '../app.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import type { OfflineDeps } from '../pipeline/offline.js';
import { trustedProxyList } from '../pipeline/client-address.js';
import type { PolicySet } from '../policy/policy-set.js';
import { RelationSchema } from '../policy/relations/schema.js';

export interface OfflineKeycard {
  readonly settings: Settings;
  readonly keycard: Keycard;
  /** The policies as loaded at open; never undefined (a broken set throws). */
  readonly policies: PolicySet;
  /** The settings file's relation schema (ReBAC), undefined without a `relations` section. */
  readonly relationSchema: RelationSchema | undefined;
  /** What decideOffline needs besides the state: the policies and the settings' trusted proxies. */
  readonly deps: Pick<OfflineDeps, 'policies' | 'trustedProxies'>;
  /** Issuer names of the settings file. */
  readonly issuers: readonly string[];
  close(): Promise<void>;
}

/** How every offline tool builds its Keycard: nothing traced, so no OpenTelemetry SDK and no exporter. */
export const OFFLINE_KEYCARD: KeycardOptions = { tracing: false };

/**
 * Throws ConfigError (with every problem) when the settings, seed or policies are invalid.
 * `keys: false` skips loading the issuers' signing keys (no network) when no token will be seen.
 */
export async function openKeycard(configFile: string, { keys = false }: { keys?: boolean } = {}): Promise<OfflineKeycard> {
  const settings = loadSettings(configFile);
  const keycard = new Keycard(
    // No shadow set: offline tools decide with the enforced policies only.
    { ...settings, audit: { output: 'off' }, policies: { ...settings.policies, watch: false }, shadow: undefined },
    // Problems are thrown and printed by the command; logs would only repeat them.
    createLogger('silent'),
    OFFLINE_KEYCARD,
  );
  await keycard.load({ keys });
  const policies = keycard.policies.current;
  if (!policies) {
    await keycard.stop();
    throw keycard.policies.lastError ?? new ConfigError([{ code: 'file_unreadable', file: settings.policies.dir, message: 'policies not loaded' }]);
  }
  return {
    settings,
    keycard,
    policies,
    relationSchema: RelationSchema.fromSettings(settings.relations),
    deps: { policies, trustedProxies: trustedProxyList(settings.network.trustedProxies) },
    issuers: settings.issuers.map((issuer) => issuer.name),
    close: () => keycard.stop(),
  };
}


/** Runs a command body; a ConfigError is printed and becomes exit code 2 (an error, not a deny). */
export async function exitTwoOnConfigError(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 2;
  }
}
