// API keys (`kc_<id>_<secret>`) from a header or a query parameter. The key is looked up by its id
// in the live store on every request (through the replica's cache, which the change feed keeps
// current), so deleting a key is refused by every replica at once. The secret is checked by
// comparing HMACs in constant time; the key itself is never logged, cached or stored.
import { timingSafeEqual } from 'node:crypto';
import { DenyError } from '../../errors.js';
import type { ApiKeyRecord, ReadOptions, StateStore } from '../../state/store.js';
import type { AuthenticatedIdentity } from '../identity.js';
import { hmac, parseApiKey } from './api-key-format.js';
import { readStore } from '../../state/store-read.js';
import type { CredentialProvider, CredentialRequest, CredentialSpecOf, PresentedCredential } from './types.js';

export interface ApiKeyProviderOptions {
  readonly store: StateStore;
  /** The deployment's pepper (pepper.ts); called on the first key verified. */
  readonly pepper: () => Buffer;
  readonly now?: () => number;
}

/** Keys are short; anything much longer is not a key and is not hashed or echoed. */
const MAX_PRESENTED_LENGTH = 256;
const BEARER = /^bearer +/i;

export class ApiKeyProvider implements CredentialProvider<'api_key'> {
  readonly kind = 'api_key';
  private readonly now: () => number;

  constructor(private readonly options: ApiKeyProviderOptions) {
    this.now = options.now ?? Date.now;
  }

  find(request: CredentialRequest, spec: CredentialSpecOf<'api_key'>): PresentedCredential | undefined {
    const inHeader = spec.header === undefined ? undefined : request.header(spec.header);
    const inQuery = spec.query === undefined ? undefined : request.query(spec.query);
    // One entry naming both places found two credentials: which one counts is not ours to guess.
    if (inHeader !== undefined && inQuery !== undefined) {
      throw new DenyError('ambiguous_credentials', `API keys in header:${spec.header} and query:${spec.query}`);
    }
    const [carrier, raw] = inHeader !== undefined ? [`header:${spec.header}`, inHeader] : [`query:${spec.query}`, inQuery];
    if (raw === undefined) return undefined;
    // `Authorization: Bearer kc_…` is accepted where the key travels in the Authorization header.
    const key = raw.trim().replace(BEARER, '');
    return {
      kind: 'api_key',
      carrier,
      // Something else in a shared place (a JWT in Authorization) belongs to another method first.
      claim: key.startsWith('kc_') ? 'certain' : 'fallback',
      verify: () => this.verify(key, request.storeReads),
    };
  }

  private async verify(key: string, reads: ReadOptions): Promise<AuthenticatedIdentity> {
    if (key.length > MAX_PRESENTED_LENGTH) throw new DenyError('invalid_api_key', `the API key is ${key.length} characters long`);
    const parsed = parseApiKey(key);
    if (!parsed.ok) throw new DenyError('invalid_api_key', parsed.problem);
    const { id, secret } = parsed;
    const record = await readStore(this.options.store, () => this.options.store.apiKey(id, reads));
    // Unknown ids cost an HMAC too, so timing does not tell which ids exist.
    const presented = hmac(this.options.pepper(), secret);
    if (record === undefined) throw new DenyError('invalid_api_key', `no API key ${id}`);
    const stored = Buffer.from(record.hash, 'base64url');
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) {
      throw new DenyError('invalid_api_key', `the secret of API key ${id} does not match`);
    }
    // Expiry is told only to a caller holding the secret.
    const nowSeconds = this.now() / 1000;
    if (record.expiresAt !== undefined && record.expiresAt <= nowSeconds) {
      throw new DenyError('api_key_expired', `API key ${id} expired at ${new Date(record.expiresAt * 1000).toISOString()}`);
    }
    return apiKeyIdentity(record);
  }
}

/**
 * The caller an API key stands for. `jti` is the key id, so `keycard revoke token <id>` and the
 * `scope:` condition work as for tokens; `iat` is the creation time (`keycard revoke subject`).
 */
export function apiKeyIdentity(record: ApiKeyRecord): AuthenticatedIdentity {
  return {
    authenticated: true,
    subject: record.subject,
    issuer: 'api-key',
    credential: 'api_key',
    claims: {
      sub: record.subject,
      scope: record.scopes.join(' '),
      jti: record.id,
      iat: record.createdAt,
      ...(record.expiresAt !== undefined && { exp: record.expiresAt }),
    },
    expiresAt: record.expiresAt ?? Number.MAX_SAFE_INTEGER,
  };
}
