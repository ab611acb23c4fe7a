// Opens the configured store for a state command, with the relation schema and an audit log.
// Writes to a memory store are refused before it is even built: they would change only this
// process's copy, never the running server's.
import { AuditLog } from '../../audit/audit-log.js';
import { lazyPepper } from '../../authn/credentials/pepper.js';
import { loadSettings } from '../../config/settings.js';
import { RelationSchema } from '../../policy/relations/schema.js';
import { createStore } from '../../state/create-store.js';
import { MEMORY_STORE_REFUSAL, StateCommandError, type StateContext } from './context.js';

export interface OpenedState {
  readonly context: StateContext;
  /** Closes the store and writes out the audit log; call before exit. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The command changes state: refused on a memory store, and audited. */
  readonly write: boolean;
  readonly actor: string;
}

/** Throws ConfigError for an invalid settings or seed file, StateCommandError for a write to a memory store. */
export async function openState(configFile: string, { write, actor }: OpenOptions): Promise<OpenedState> {
  const settings = loadSettings(configFile);
  if (write && settings.store.type === 'memory') throw new StateCommandError(MEMORY_STORE_REFUSAL);
  const relationSchema = RelationSchema.fromSettings(settings.relations);
  const store = createStore(settings.store, relationSchema);
  const output = write ? settings.audit.output : 'off';
  if (write && output === 'off') console.error('keycard: audit.output is off: this change is not audited');
  const audit = new AuditLog({ output });
  return {
    context: {
      store,
      relationSchema,
      jwt: { maxTokenLifetime: settings.jwt.maxTokenLifetime, clockSkew: settings.jwt.clockSkew },
      actor,
      audit,
      now: Date.now,
      credentials: { pepper: settings.apiKeys && lazyPepper(settings.apiKeys, settings.file), sessions: settings.sessions },
    },
    async close() {
      try {
        await store.close();
      } finally {
        await audit.close();
      }
    },
  };
}
