// The shadow decides for the caller the enforced decision was made for: it never authenticates
// again (no second token verification, introspection call or session touch) nor reads the roles
// or revocations again. Where the enforced pipeline stopped before the caller was known, the
// candidate meets the same failure; only a request the enforced set could not route (a service
// the candidate adds) leaves the caller unknown, and that evaluation is reported as such.
import type { AuthenticationConfig } from '../authn/credentials/types.js';
import { ANONYMOUS, type Identity } from '../authn/identity.js';
import { DenyError, type DenyReason } from '../errors.js';
import type { IdentityAuthenticator } from '../pipeline/pipeline.js';
import type { Decision } from '../pipeline/types.js';
import type { CallerContext } from '../policy/evaluate.js';
import type { StateStore } from '../state/store.js';

export interface EnforcedCaller {
  readonly authenticator: IdentityAuthenticator;
  /** The store, except that roles are the enforced decision's and the token is not revoked (it was checked). */
  readonly store: StateStore;
  /** True once the candidate needed a caller that the enforced decision never established. */
  readonly unknown: () => boolean;
}

export function enforcedCaller(decision: Decision, caller: CallerContext | undefined, store: StateStore): EnforcedCaller {
  let unknown = false;
  const authenticator: IdentityAuthenticator = {
    authenticate: async (_request, config) => {
      if (caller) return acceptedBy(caller.identity, config);
      const reason = enforcedReason(decision);
      // phaseMs records the phases that finished: identity done, state failed (revoked token,
      // store down); or route done, identity failed (a bad token). The candidate would meet the same.
      if ((decision.phaseMs.identity !== undefined || decision.phaseMs.route !== undefined) && reason) {
        throw new DenyError(reason, `as enforced: ${decision.detail ?? reason}`);
      }
      unknown = true;
      throw new DenyError('internal_error', 'the enforced decision did not establish the caller');
    },
  };
  const roles = caller?.roles ?? NO_ROLES;
  const state = Object.assign(Object.create(store) as StateStore, {
    rolesFor: async () => roles,
    revocationFor: async () => undefined,
  });
  return { authenticator, store: state, unknown: () => unknown };
}

const NO_ROLES: ReadonlySet<string> = new Set();

/** The deny reason of the enforced decision, or the would-be one of a dry-run. */
function enforcedReason(decision: Decision): DenyReason | undefined {
  if (decision.dryRun) return decision.dryRun.reason;
  return decision.reason === 'allowed' ? undefined : decision.reason;
}

/**
 * The enforced identity as the candidate's `authentication` would take it: a credential kind it
 * does not accept is not looked for (anonymous), an issuer it does not accept is rejected.
 */
export function acceptedBy(identity: Identity, config: AuthenticationConfig): Identity {
  if (!identity.authenticated) return identity;
  const spec = config.credentials.find((credential) => credential.kind === identity.credential);
  if (!spec) return ANONYMOUS;
  if ((spec.kind === 'jwt' || spec.kind === 'envoy_jwt') && spec.issuers && !spec.issuers.includes(identity.issuer)) {
    throw new DenyError('untrusted_issuer', `issuer ${identity.issuer} is not accepted by the candidate policy`);
  }
  return identity;
}
