// `keycard apikeys create | revoke | list`: API keys in the store. A new key is printed once and
// never stored, audited or logged: the store keeps the HMAC of its secret under the pepper, and
// the audit log the key's public id. Revoking deletes the key, so every replica refuses it at once.
import { API_KEY_ID, API_KEY_SHAPE, generateApiKey, hashApiKeySecret } from '../../authn/credentials/api-key-format.js';
import type { ApiKeyRecord } from '../../state/store.js';
import { applyChange, type ChangeResult } from './change.js';
import { StateCommandError, type StateContext } from './context.js';
import { iso } from './revocations.js';

const MAX_SUBJECT_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const SUBJECT = /^[^\s\x00-\x1f\x7f]+$/;
/** As a policy's `scope:` condition writes scopes. */
const SCOPE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
// eslint-disable-next-line no-control-regex
const NAME = /^[^\x00-\x1f\x7f]{1,128}$/;

export interface NewApiKeyOptions {
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly name?: string;
  /** Lifetime in milliseconds; absent: the key does not expire. */
  readonly expiresInMs?: number;
}

export interface CreatedApiKey extends ChangeResult {
  readonly id: string;
  /** The key: print it once, never keep it. */
  readonly key: string;
  readonly record: ApiKeyRecord;
}

export async function createApiKey(context: StateContext, options: NewApiKeyOptions): Promise<CreatedApiKey> {
  const pepper = requirePepper(context);
  const subject = checkSubject(options.subject);
  const scopes = [...new Set(options.scopes)];
  for (const scope of scopes) {
    if (!SCOPE.test(scope)) throw new StateCommandError(`--scope "${scope}" may use letters, digits, ".", ":", "/", "_" and "-"`);
  }
  if (options.name !== undefined && !NAME.test(options.name)) throw new StateCommandError('--name must be 1 to 128 characters without control characters');
  if (options.expiresInMs !== undefined && !(options.expiresInMs >= 1000)) throw new StateCommandError('--expires must be at least 1s');
  const created = generateApiKey();
  const createdAt = Math.floor(context.now() / 1000);
  const record: ApiKeyRecord = {
    id: created.id,
    subject,
    hash: hashApiKeySecret(pepper(), created.secret),
    scopes,
    ...(options.name !== undefined && { name: options.name }),
    createdAt,
    ...(options.expiresInMs !== undefined && { expiresAt: createdAt + Math.ceil(options.expiresInMs / 1000) }),
  };
  const result = await applyChange(context, {
    action: 'apikeys.create',
    target: apiKeyTarget(record),
    changed: true,
    message: `created API key ${record.id} for ${subject} (${scopes.length === 0 ? 'no scopes' : `scopes ${scopes.join(' ')}`}; ${record.expiresAt === undefined ? 'never expires' : `expires ${iso(record.expiresAt)}`})`,
    write: () => context.store.putApiKey(record),
  });
  return { ...result, id: record.id, key: created.key, record };
}

/** Deletes the key with this id: every replica refuses it from the next request on. */
export async function revokeApiKey(context: StateContext, id: string): Promise<ChangeResult> {
  checkId(id);
  const record = await context.store.apiKey(id);
  return applyChange(context, {
    action: 'apikeys.revoke',
    target: record === undefined ? { id } : { id, subject: record.subject },
    changed: record !== undefined,
    message: record === undefined ? `no API key ${id}: nothing to revoke` : `revoked API key ${id} of ${record.subject}`,
    write: async () => void (await context.store.deleteApiKey(id)),
  });
}

/** Keys (of `subject`, if given) the store holds, expired ones included until they are dropped. */
export async function listApiKeys(context: StateContext, subject?: string): Promise<readonly ApiKeyRecord[]> {
  return context.store.listApiKeys(subject === undefined ? undefined : checkSubject(subject));
}

/** An API key as audited and listed: never its hash. */
export function apiKeyTarget(record: ApiKeyRecord): Record<string, string> {
  return {
    id: record.id,
    subject: record.subject,
    scopes: record.scopes.join(' '),
    ...(record.name !== undefined && { name: record.name }),
    created_at: iso(record.createdAt),
    ...(record.expiresAt !== undefined && { expires_at: iso(record.expiresAt) }),
  };
}

function requirePepper(context: StateContext): () => Buffer {
  const pepper = context.credentials?.pepper;
  if (pepper === undefined) throw new StateCommandError('API keys need `apiKeys:` (pepperFile or pepperEnv) in the settings file');
  return pepper;
}

function checkSubject(subject: string): string {
  if (!SUBJECT.test(subject) || subject.length > MAX_SUBJECT_LENGTH) {
    throw new StateCommandError(`subject "${subject}" must be 1 to ${MAX_SUBJECT_LENGTH} characters without whitespace or control characters`);
  }
  return subject;
}

function checkId(id: string): void {
  // Never echo, store or audit a key: a pasted key is refused without repeating it.
  if (API_KEY_SHAPE.test(id) || id.startsWith('kc_')) throw new StateCommandError('that is an API key, not its id: give the 12 characters after "kc_" (keycard apikeys list shows them)');
  if (!API_KEY_ID.test(id)) throw new StateCommandError(id.length <= 24 ? `API key id "${id}" is not 12 letters and digits` : 'an API key id is 12 letters and digits');
}
