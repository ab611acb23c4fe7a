// What the coverage and diff commands read besides the analysis itself: a policy directory compiled
// with the settings' issuers, credentials, step-up and relation schema (as the server would), and
// the role bindings in the configured store (memory seed or Redis), read once.
import { policyCompileOptions, type Settings } from '../../config/settings.js';
import { loadPolicySet as loadPoliciesAndApis } from '../../policy/load-policies.js';
import type { PolicySet } from '../../policy/policy-set.js';
import { RelationSchema } from '../../policy/relations/schema.js';
import type { CompiledPolicy } from '../../policy/types.js';
import { createStore } from '../../state/create-store.js';
import type { RoleBinding } from '../../state/store.js';
import type { ApiDescription } from '../types.js';

/** The policies of `dir` and the API descriptions they name; throws ConfigError listing every problem. */
export async function loadPolicySet(dir: string, settings: Settings): Promise<PolicySet> {
  return loadPoliciesAndApis(dir, { ...policyCompileOptions(settings), relationSchema: RelationSchema.fromSettings(settings.relations) });
}

/** The service's API description (policy `api.openapi`), if it has one. */
export function apiOf(policy: CompiledPolicy): ApiDescription | undefined {
  return policy.api;
}

/** The store could not be read: the analysis cannot know the roles, so it does not guess. */
export class StoreReadError extends Error {
  override name = 'StoreReadError';
}

/** Every role binding in the configured store; throws StoreReadError when the store cannot answer. */
export async function readRoleBindings(settings: Settings): Promise<readonly RoleBinding[]> {
  const store = createStore(settings.store, RelationSchema.fromSettings(settings.relations));
  try {
    return await store.listRoleBindings();
  } catch (error) {
    throw new StoreReadError(`cannot read the role bindings from the ${store.kind} store: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}
