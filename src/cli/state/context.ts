// What the state commands (`keycard roles | revoke | tuples | apikeys | sessions`) work with: the store, the relation
// schema, the token lifetime settings that revocation expiry depends on, who is acting, and
// where changes are audited. The commands take it as a parameter, so tests inject a store.
import { userInfo } from 'node:os';
import type { StateChangeRecord } from '../../audit/audit-log.js';
import type { SessionSettings } from '../../config/credential-settings.js';
import type { RelationSchema } from '../../policy/relations/schema.js';
import type { StateStore } from '../../state/store.js';

/** What `keycard apikeys` and `keycard sessions` need from the settings file. */
export interface CredentialCommandSettings {
  /** The API key pepper (read on first use); undefined without `apiKeys:` in the settings. */
  readonly pepper: (() => Buffer) | undefined;
  readonly sessions: SessionSettings;
}

export interface StateContext {
  readonly store: StateStore;
  /** The settings file's relation schema; undefined without a `relations` section. */
  readonly relationSchema: RelationSchema | undefined;
  /** `jwt.maxTokenLifetime` and `jwt.clockSkew` (ms): how long a revocation entry must be kept. */
  readonly jwt: { readonly maxTokenLifetime: number; readonly clockSkew: number };
  /** Who makes the changes, for the audit log. */
  readonly actor: string;
  readonly audit: { stateChange(change: StateChangeRecord): void };
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** For `apikeys` and `sessions`; those commands refuse to run without it. */
  readonly credentials?: CredentialCommandSettings;
}

/** Invalid input or a failed store operation: printed as one line, exit code 2. */
export class StateCommandError extends Error {
  override name = 'StateCommandError';
}

/** Why a write to a memory store is refused: it would change only the CLI's own copy. */
export const MEMORY_STORE_REFUSAL = 'the memory store is per process: use a Redis store (store.type: redis) to change live state';

/** `--actor`, else $KEYCARD_ACTOR, else the OS user (`unknown` when there is none). */
export function resolveActor(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const actor = (flag ?? (env.KEYCARD_ACTOR || osUser())).trim();
  // eslint-disable-next-line no-control-regex
  if (actor === '' || /[\x00-\x1f\x7f]/.test(actor) || actor.length > 256) {
    throw new StateCommandError('--actor: give a name of 1 to 256 characters without control characters');
  }
  return actor;
}

function osUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    // No passwd entry for this uid (some containers).
    return 'unknown';
  }
}
