// Opaque bearer tokens, verified by asking the issuer (RFC 7662 token introspection). A service
// lists the endpoints it trusts; they are asked in order until one calls the token active.
// Answers are cached per endpoint by a SHA-256 of the token: an active token until its `exp`
// (at most cacheMaxTtl), an inactive one for negativeCacheTtl; a failed call is never cached.
// Concurrent requests with the same new token make one call.
import type { IntrospectionEndpointSettings } from '../../config/credential-settings.js';
import { DenyError, type DenyReason } from '../../errors.js';
import { checkSubject } from '../subject.js';
import { bearerToken } from '../authenticator.js';
import type { AuthenticatedIdentity } from '../identity.js';
import { TokenCache } from '../token-cache.js';
import { introspect, IntrospectionError, type IntrospectionFailure, type IntrospectionResponse } from './introspection-client.js';
import type { SecretEnvironment } from '../../config/secret-source.js';
import { readClientAuthorizations } from './introspection-endpoints.js';
import type { CredentialProvider, CredentialRequest, CredentialSpecOf, PresentedCredential } from './types.js';
import { timeClaimProblem } from '../time-claims.js';

/** The outcome of asking one endpoint (the metric's `result` label). */
export type IntrospectionResult = 'active' | 'inactive' | IntrospectionFailure;

export interface IntrospectionObserver {
  /** An answer was (hit) or was not (miss) in the endpoint's cache. */
  cacheLookup?(endpoint: string, hit: boolean): void;
  /** A call to the endpoint ended; `detail` says why it failed (never the token or the secret). */
  request?(endpoint: string, result: IntrospectionResult, detail?: string): void;
}

export interface IntrospectionOptions {
  readonly clockSkewMs: number;
  /** A longer token is refused (token_too_large) without asking anyone (`jwt.maxTokenBytes`). */
  readonly maxTokenBytes: number;
  readonly observer?: IntrospectionObserver;
  readonly now?: () => number;
}

/** What an endpoint's answer means for the token. Cached; `expiresAt` in seconds. */
type Answer =
  | { readonly active: true; readonly identity: AuthenticatedIdentity; readonly expiresAt: number }
  | { readonly active: false; readonly reason: DenyReason; readonly detail: string; readonly expiresAt: number };

/** An identity without `exp` is trusted at least this long (e.g. as the bound of an internal token). */
const MIN_IDENTITY_LIFETIME_MS = 60_000;

class Endpoint {
  readonly active: TokenCache<Answer>;
  readonly inactive: TokenCache<Answer>;
  /** Calls in progress by token hash: a burst with one new token makes one call. */
  readonly pending = new Map<string, Promise<Answer>>();
  /** The client authentication, once loadSecrets() has read the secret. */
  authorization: string | undefined;

  constructor(
    readonly settings: IntrospectionEndpointSettings,
    now: () => number,
  ) {
    // Separate caches: a flood of random tokens (all inactive) cannot evict the active ones.
    this.active = new TokenCache(settings.cacheSize, settings.cacheMaxTtl, now);
    this.inactive = new TokenCache(settings.cacheSize, settings.negativeCacheTtl, now);
  }
}

export class IntrospectionProvider implements CredentialProvider<'introspection'> {
  readonly kind = 'introspection';
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly now: () => number;

  constructor(
    endpoints: readonly IntrospectionEndpointSettings[],
    private readonly options: IntrospectionOptions,
  ) {
    this.now = options.now ?? Date.now;
    for (const endpoint of endpoints) this.endpoints.set(endpoint.name, new Endpoint(endpoint, this.now));
  }

  /**
   * Reads every endpoint's client secret (ConfigError naming each one missing). Until then, an
   * opaque token is answered introspection_unavailable: offline tools never read the secrets.
   * @param file the settings file, for messages.
   */
  loadSecrets(file: string, env?: SecretEnvironment): void {
    const authorizations = readClientAuthorizations([...this.endpoints.values()].map((endpoint) => endpoint.settings), file, env);
    for (const [name, endpoint] of this.endpoints) endpoint.authorization = authorizations.get(name);
  }

  find(request: CredentialRequest, spec: CredentialSpecOf<'introspection'>): PresentedCredential | undefined {
    const token = bearerToken(request.header(spec.header));
    if (token === undefined) return undefined;
    return { kind: 'introspection', carrier: `header:${spec.header}`, claim: 'certain', verify: () => this.verify(token, spec.endpoints) };
  }

  private async verify(token: string, names: readonly string[]): Promise<AuthenticatedIdentity> {
    const bytes = Buffer.byteLength(token);
    if (bytes > this.options.maxTokenBytes) throw new DenyError('token_too_large', `token of ${bytes} bytes exceeds ${this.options.maxTokenBytes}`);
    const key = TokenCache.key(token);
    const failures: string[] = [];
    let denial: Extract<Answer, { active: false }> | undefined;
    for (const name of names) {
      const endpoint = this.endpoints.get(name);
      // compile.ts refuses a policy naming an endpoint that is not configured; this is the backstop.
      if (!endpoint) throw new DenyError('internal_error', `introspection endpoint ${name} is not configured`);
      let answer: Answer;
      try {
        answer = await this.answer(endpoint, key, token);
      } catch (error) {
        if (!(error instanceof IntrospectionError)) throw error;
        failures.push(`${name}: ${error.message}`);
        continue;
      }
      if (answer.active) return answer.identity;
      // The endpoint knows the token but cannot vouch for it (expired, no subject): its verdict.
      if (answer.reason !== 'token_inactive') throw new DenyError(answer.reason, answer.detail);
      denial ??= answer;
    }
    // An endpoint that did not answer might have called the token active: not a verdict.
    if (failures.length > 0) throw new DenyError('introspection_unavailable', failures.join('; '));
    throw new DenyError('token_inactive', denial?.detail ?? 'no introspection endpoint is configured for this service');
  }

  private async answer(endpoint: Endpoint, key: string, token: string): Promise<Answer> {
    const name = endpoint.settings.name;
    const cached = endpoint.active.get(key) ?? endpoint.inactive.get(key);
    this.options.observer?.cacheLookup?.(name, cached !== undefined);
    if (cached) return cached;
    let call = endpoint.pending.get(key);
    if (!call) {
      call = this.ask(endpoint, key, token).finally(() => endpoint.pending.delete(key));
      endpoint.pending.set(key, call);
    }
    return call;
  }

  private async ask(endpoint: Endpoint, key: string, token: string): Promise<Answer> {
    const name = endpoint.settings.name;
    const { authorization, settings } = endpoint;
    if (authorization === undefined) throw new IntrospectionError('unreachable', 'the client secret is not loaded');
    let response: IntrospectionResponse;
    try {
      response = await introspect({ url: settings.endpoint, authorization, timeoutMs: settings.timeout }, token);
    } catch (error) {
      if (error instanceof IntrospectionError) this.options.observer?.request?.(name, error.failure, error.message);
      throw error;
    }
    this.options.observer?.request?.(name, response.active ? 'active' : 'inactive');
    const answer = this.judge(endpoint.settings, response);
    if (answer.active) endpoint.active.set(key, answer);
    else endpoint.inactive.set(key, { ...answer, expiresAt: (this.now() + settings.negativeCacheTtl) / 1000 });
    return answer;
  }

  /** What an answer means: an identity, or why the token is not acceptable. */
  private judge(endpoint: IntrospectionEndpointSettings, response: IntrospectionResponse): Answer {
    const name = endpoint.name;
    const nowMs = this.now();
    const deny = (reason: DenyReason, detail: string): Answer => ({ active: false, reason, detail: `${name}: ${detail}`, expiresAt: 0 });
    if (!response.active) return deny('token_inactive', 'the token is not active');
    const { sub, exp } = response;
    const subject = checkSubject(sub);
    if (!subject.ok) return deny('invalid_claims', subject.problem);
    const time = timeClaimProblem(response, { nowMs, clockSkewMs: this.options.clockSkewMs, requireExp: false });
    if (time !== undefined) return deny(time.reason, time.detail);
    const expiresAt = typeof exp === 'number' ? exp : (nowMs + Math.max(endpoint.cacheMaxTtl, MIN_IDENTITY_LIFETIME_MS)) / 1000;
    // Every member but `active` is a fact about the token, in claim form (scope, client_id, …).
    const claims = Object.freeze(Object.fromEntries(Object.entries(response).filter(([member]) => member !== 'active')));
    const identity: AuthenticatedIdentity = Object.freeze({ authenticated: true, subject: subject.subject, issuer: name, credential: 'introspection', claims, expiresAt });
    return { active: true, identity, expiresAt };
  }
}
