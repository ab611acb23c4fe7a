// One change to the live state: written to the store, then audited. The write is made (and
// audited) even when the store already holds the requested state: every write is idempotent, and
// a check made beforehand could be stale by the time of the write.
import type { StateAction } from '../../audit/audit-log.js';
import type { StateContext } from './context.js';

export interface ChangeResult {
  readonly action: StateAction;
  /** What was changed, as audited. */
  readonly target: Readonly<Record<string, string>>;
  /** The store kind written to. */
  readonly store: string;
  readonly actor: string;
  /** False when the store already was in the requested state just before the write. */
  readonly changed: boolean;
  /** One line for people. */
  readonly message: string;
}

export interface ChangeSpec {
  readonly action: StateAction;
  readonly target: Readonly<Record<string, string>>;
  readonly changed: boolean;
  readonly message: string;
  readonly write: () => Promise<void>;
}

export async function applyChange(context: StateContext, { action, target, changed, message, write }: ChangeSpec): Promise<ChangeResult> {
  await write();
  const store = context.store.kind;
  context.audit.stateChange({ actor: context.actor, action, target, store });
  return { action, target, store, actor: context.actor, changed, message };
}
