// The Pipeline in-process, for tests that decide requests without a server: its dependencies with
// test defaults, the test issuer's Authenticator, and requests as Envoy would hand them over.
import { Authenticator } from '../../src/authn/authenticator.js';
import { IdentityPhase } from '../../src/authn/identity-phase.js';
import type { Identity } from '../../src/authn/identity.js';
import { fileLoader, KeySet } from '../../src/authn/key-set.js';
import { TokenCache } from '../../src/authn/token-cache.js';
import type { IssuerSettings } from '../../src/config/settings.js';
import { Pipeline, type PipelineDeps } from '../../src/pipeline/pipeline.js';
import type { AuthzInput } from '../../src/pipeline/types.js';
import type { RelationChecker } from '../../src/policy/conditions/types.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { jwks, TEST_AUDIENCE, TEST_ISSUER, type TestKey } from './keys.js';
import type { Workspace } from './workspace.js';

/** For policies without relation conditions: no relation ever holds. */
export const NO_RELATIONS: RelationChecker = { check: async () => ({ ok: false }) };

/**
 * A Pipeline with `deps`; without them an empty memory store, no relations and limits of 100
 * headers, 10,000 bytes. A JWT Authenticator becomes an identity phase that accepts only JWTs.
 */
export function pipelineWith(
  deps: Pick<PipelineDeps, 'policies'> & { authenticator: PipelineDeps['authenticator'] | Authenticator } & Partial<Omit<PipelineDeps, 'authenticator'>>,
): Pipeline {
  const authenticator = deps.authenticator instanceof Authenticator ? new IdentityPhase({ jwt: deps.authenticator }) : deps.authenticator;
  return new Pipeline({ store: new MemoryStore(), relations: NO_RELATIONS, limits: { maxHeaders: 100, maxHeaderBytes: 10_000 }, ...deps, authenticator });
}

/** An identity phase that makes every caller `identity`, as `keycard check` does. */
export function fixedIdentity(identity: Identity): PipelineDeps['authenticator'] {
  return { authenticate: async () => identity };
}

/**
 * A started Authenticator for the test issuer (test-idp: TEST_ISSUER, TEST_AUDIENCE, ES256) that
 * trusts `key`, whose JWKS it reads from jwks.json in `workspace`.
 */
export async function testAuthenticator(workspace: Workspace, key: TestKey): Promise<Authenticator> {
  const keys = new KeySet(fileLoader(workspace.write('jwks.json', jwks(key))), { refreshIntervalMs: 60_000, minRefreshIntervalMs: 0 });
  await keys.start();
  const settings = { name: 'test-idp', issuer: TEST_ISSUER, audiences: [TEST_AUDIENCE], algorithms: ['ES256'] } as unknown as IssuerSettings;
  return new Authenticator([{ settings, keys }], new TokenCache(100, 60_000), { clockSkewMs: 0, maxTokenBytes: 8192 });
}

/** A GET of `path` on `service` (its host too), without headers, source or context extensions unless `extra` gives them. */
export function authzInput(service: string, path: string, extra: Partial<AuthzInput> = {}): AuthzInput {
  return { method: 'GET', host: service, path, headers: new Map(), service, source: {}, contextExtensions: {}, ...extra };
}
