// The signing keys of one issuer. Keys come from a file or an HTTPS JWKS endpoint, are held in
// memory, refreshed in the background and on an unknown `kid` (at most once per
// minRefreshInterval), and a failed refresh keeps the last good keys, so an IdP outage or a key
// rotation does not turn into denied requests. Concurrent refreshes are a single fetch.
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';

/** The keys could not be obtained at all (as opposed to a token that does not fit them). */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

export interface JwksLoader {
  readonly description: string;
  load(): Promise<unknown>;
}

export interface KeySetOptions {
  readonly refreshIntervalMs: number;
  readonly minRefreshIntervalMs: number;
  /** Called after every fetch attempt, for metrics and logs. */
  readonly onFetch?: (result: 'ok' | 'error', error?: Error) => void;
  readonly now?: () => number;
}

const MAX_JWKS_BYTES = 1024 * 1024;

export class KeySet {
  private local: JWTVerifyGetKey | undefined;
  private inflight: Promise<void> | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly loader: JwksLoader,
    private readonly options: KeySetOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** True once keys have been loaded at least once. */
  get ready(): boolean {
    return this.local !== undefined;
  }

  /** Loads the keys now and keeps them fresh in the background until stop(). */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshIntervalMs);
    this.timer.unref();
    await this.refresh().catch(() => undefined);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** jose key resolver: a key for the token's header, refreshing once for an unknown kid. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.local && this.mayRefresh()) await this.refresh().catch(() => undefined);
    if (!this.local) throw new JwksUnavailableError(`no keys loaded from ${this.loader.description}`);
    try {
      return await this.local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayRefresh()) throw error;
      await this.refresh().catch(() => undefined);
      return this.local(header, token);
    }
  };

  /** Fetches the keys; concurrent callers share one fetch. Rejects, keeping the old keys, on failure. */
  refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** A refresh already under way counts as allowed: callers wait for it instead of failing. */
  private mayRefresh(): boolean {
    return this.inflight !== undefined || this.now() - this.lastAttempt >= this.options.minRefreshIntervalMs;
  }

  private async fetch(): Promise<void> {
    this.lastAttempt = this.now();
    try {
      const jwks = publicKeysOnly(await this.loader.load());
      this.local = createLocalJWKSet(jwks);
      this.options.onFetch?.('ok');
    } catch (error) {
      const failure = new JwksUnavailableError(`${this.loader.description}: ${(error as Error).message}`);
      this.options.onFetch?.('error', failure);
      throw failure;
    }
  }
}

/** Keeps asymmetric public keys; a JWKS that publishes private or symmetric key material is refused. */
export function publicKeysOnly(value: unknown): JSONWebKeySet {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new Error('not a JWKS: expected an object with a "keys" array');
  }
  const keys = (value as { keys: unknown[] }).keys;
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) throw new Error('a JWKS key is not an object');
    const jwk = key as JWK;
    if (jwk.kty === 'oct') throw new Error('the JWKS holds a symmetric (oct) key; only public keys are accepted');
    if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new Error('the JWKS holds private key material');
  }
  return { keys: keys as JWK[] };
}

export function fileLoader(path: string): JwksLoader {
  return {
    description: path,
    async load() {
      return JSON.parse(await readFile(path, 'utf8')) as unknown;
    },
  };
}

export function uriLoader(uri: string, timeoutMs: number): JwksLoader {
  return {
    description: uri,
    async load() {
      // No redirects: the URI is the operator's choice, never the token's.
      const response = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      return JSON.parse(await readBounded(response, MAX_JWKS_BYTES)) as unknown;
    },
  };
}

/** Reads a response body, giving up as soon as it grows past `limit` bytes. */
async function readBounded(response: Response, limit: number): Promise<string> {
  const tooLarge = () => new Error(`JWKS larger than ${limit} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > limit) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    // Leaving the loop (by throwing) cancels the stream, so the rest is never read.
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
