// Who is asking (the policy enforcement point), and whether it may ask about a resource. The
// caller authenticates with the credentials `authzen.authentication` accepts, through the same
// identity phase as Envoy's Check (JWT, API key, introspection, or an mTLS identity forwarded by
// a trusted proxy in x-forwarded-client-cert: this listener is plain HTTP, so no peer certificate
// of its own). A revoked caller token is refused like anywhere else. What a caller may ask about
// is the target service's policy's word (`authzen.callers`): without it, nobody may.
import { bearerChallenge } from '../protocol/decision-response.js';
import { credentialRequest } from '../authn/credentials/request-source.js';
import type { FoundPolicy } from '../access/resource-policy.js';
import type { AuthenticationConfig } from '../authn/credentials/types.js';
import type { AuthenticatedIdentity, Identity } from '../authn/identity.js';
import { DenyError, denySpec, type DenyReason } from '../errors.js';
import { checkNotRevoked } from '../pipeline/decision-steps.js';
import type { IdentityAuthenticator } from '../pipeline/pipeline.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { StateStore } from '../state/store.js';
import { readStore } from '../state/store-read.js';
import type { AccessModel } from './access-model.js';

export interface CallerRequest {
  readonly method: string;
  readonly url: string;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly remoteAddress: string | undefined;
}

export type CallerOutcome =
  | { readonly ok: true; readonly identity: AuthenticatedIdentity }
  | { readonly ok: false; readonly status: number; readonly reason: DenyReason; readonly message: string; readonly wwwAuthenticate?: string };

export interface CallerGateDeps {
  readonly authenticator: IdentityAuthenticator;
  readonly authentication: AuthenticationConfig;
  readonly store: StateStore;
  readonly model: AccessModel;
}

export class CallerGate {
  constructor(private readonly deps: CallerGateDeps) {}

  async authenticate(request: CallerRequest): Promise<CallerOutcome> {
    let identity: Identity;
    try {
      identity = await this.deps.authenticator.authenticate(
        credentialRequest({ method: request.method, host: '', path: request.url, headers: request.headers, source: { address: request.remoteAddress }, contextExtensions: {} }),
        this.deps.authentication,
      );
      if (identity.authenticated) await checkNotRevoked(this.deps.store, identity);
    } catch (error) {
      const reason: DenyReason = error instanceof DenyError ? error.reason : 'internal_error';
      return refusal(reason);
    }
    if (!identity.authenticated) return refusal('authentication_required');
    return { ok: true, identity };
  }

  /** The resource's policy, when this caller may ask about it; undefined otherwise (403). */
  async scope(caller: AuthenticatedIdentity, resource: Parameters<AccessModel['policyFor']>[0]): Promise<FoundPolicy | undefined> {
    const found = this.deps.model.policyFor(resource);
    if (found === undefined || found.policy === undefined) return undefined;
    return (await this.mayAsk(caller, found.policy)) ? found : undefined;
  }

  /** Whether this caller may ask about the policy's service (its roles for that service read from the store). */
  async mayAsk(caller: AuthenticatedIdentity, policy: CompiledPolicy): Promise<boolean> {
    const roles = await readStore(this.deps.store, () => this.deps.store.rolesFor(caller.subject, policy.service));
    return this.deps.model.mayAsk(policy, caller, roles);
  }
}

function refusal(reason: DenyReason): CallerOutcome {
  const spec = denySpec(reason);
  // 401 for a missing or bad credential; the store or key set being down is a 503 and a fault of
  // keycard's own a 500: neither is the caller's doing.
  const status = reason === 'internal_error' ? 500 : spec.status === 503 ? 503 : 401;
  return { ok: false, status, reason, message: spec.message, ...(status === 401 && { wwwAuthenticate: bearerChallenge('keycard-authzen', spec.bearerError, spec.message, undefined) }) };
}

/** The message of a scope refusal: the same whether the type is unknown or not allowed (no oracle for which types exist). */
export function scopeMessage(resourceType: string): string {
  return `this caller may not ask about resources of type "${resourceType}"`;
}
