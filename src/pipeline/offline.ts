// Deciding a request without a network or a token: the caller's identity (and optionally its
// roles) is given. `keycard check --request`, `keycard test` and `keycard replay` all decide
// through this, with the same pipeline the server uses.
import type { BlockList } from 'node:net';
import { ANONYMOUS, type Identity } from '../authn/identity.js';
import { DenyError } from '../errors.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { StateStore } from '../state/store.js';
import { Pipeline } from './pipeline.js';
import type { Decision } from './types.js';

export interface OfflineRequest {
  readonly method?: string;
  readonly path: string;
  readonly host?: string;
  readonly service?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly source?: string;
  /** The mTLS peer identity (`source.principal`) that `principal:` conditions check. */
  readonly principal?: string;
}

export interface OfflineCaller {
  /** Omit for an anonymous caller. */
  readonly subject?: string;
  /** Configured issuer name. */
  readonly issuer?: string;
  /** Verified claims as the token would carry them (sub is set from `subject`). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Roles to use instead of the store's bindings (e.g. as recorded in an audit line). */
  readonly roles?: readonly string[];
}

export interface OfflineDeps {
  readonly policies: PolicySet;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  /** Decision time; replay passes the recorded one. */
  readonly now?: () => number;
  /** Proxies whose x-forwarded-for is believed (network.trustedProxies); undefined believes none. */
  readonly trustedProxies?: BlockList;
}

export function offlineIdentity(caller: OfflineCaller): Identity {
  if (caller.subject === undefined) return ANONYMOUS;
  return {
    authenticated: true,
    subject: caller.subject,
    issuer: caller.issuer ?? 'offline',
    credential: 'jwt',
    claims: { ...caller.claims, sub: caller.subject },
    expiresAt: Number.MAX_SAFE_INTEGER,
  };
}

export async function decideOffline(deps: OfflineDeps, request: OfflineRequest, caller: OfflineCaller = {}): Promise<Decision> {
  const identity = offlineIdentity(caller);
  const headers = new Map(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const pipeline = new Pipeline({
    policies: () => deps.policies,
    authenticator: {
      // Like the real authenticator: a service may accept only some issuers.
      authenticate: async (_request, config) => {
        const allowedIssuers = config.credentials.find((credential) => credential.kind === 'jwt')?.issuers;
        if (identity.authenticated && allowedIssuers && !allowedIssuers.includes(identity.issuer)) {
          throw new DenyError('untrusted_issuer', `issuer ${identity.issuer} is not accepted by this service`);
        }
        return identity;
      },
    },
    store: caller.roles ? withRoles(deps.store, caller.roles) : deps.store,
    relations: deps.relations,
    limits: { maxHeaders: Number.MAX_SAFE_INTEGER, maxHeaderBytes: Number.MAX_SAFE_INTEGER },
    ...(deps.now && { now: deps.now }),
    ...(deps.trustedProxies && { trustedProxies: deps.trustedProxies }),
  });
  return pipeline.decide({
    method: (request.method ?? 'GET').toUpperCase(),
    host: request.host ?? '',
    path: request.path,
    headers,
    service: request.service,
    source: { address: request.source, principal: request.principal },
    contextExtensions: request.service ? { service: request.service } : {},
  });
}

/** The store, except that every subject holds exactly `roles`. */
function withRoles(store: StateStore, roles: readonly string[]): StateStore {
  const fixed: ReadonlySet<string> = new Set(roles);
  return Object.assign(Object.create(store) as StateStore, { rolesFor: async () => fixed });
}
