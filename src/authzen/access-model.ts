// What the AuthZEN API needs of the policy model, in one interface: find the policy a resource
// belongs to, ask whether a caller may ask about it, decide a question (with the policy found),
// list the actions a policy names for a type. keycardAccessModel() builds it from the access
// decider, the policy set and the caller-scope rule; the API itself depends only on this interface.
import type { DecisionPurpose } from '../access/access-decider.js';
import type { AccessQuestion, AccessResource } from '../access/types.js';
import type { FoundPolicy, ResourcePolicy } from '../access/resource-policy.js';
import type { Identity } from '../authn/identity.js';
import type { Decision, PhaseObserver } from '../pipeline/types.js';
import type { CompiledPolicy } from '../policy/types.js';

export interface AccessModel {
  /**
   * Never rejects: failures are denies with a catalogued reason. `phases`: the decision's trace,
   * when traced. `found`: the question's resource's policy (policyFor), so it is not looked up again.
   */
  decide(question: AccessQuestion, phases?: PhaseObserver, found?: FoundPolicy, purpose?: DecisionPurpose): Promise<Decision>;
  /** The policy answering questions about this resource, in the set in force; undefined while none is loaded. */
  policyFor(resource: Pick<AccessResource, 'type' | 'properties'>): ResourcePolicy | undefined;
  /** Whether this caller (a PEP), holding these roles for the policy's service, may ask about it. */
  mayAsk(policy: CompiledPolicy, caller: Identity, callerRoles: ReadonlySet<string>): boolean;
  /** Action names the policy's rules name for the resource type (action search candidates). */
  declaredActions(policy: CompiledPolicy, resourceType: string): readonly string[];
}

/** HTTP methods: the actions an action search tries on a route. */
export const ROUTE_ACTIONS: readonly string[] = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
