// Which policy answers questions about a resource: the one whose access rules name its type, or,
// for the route special case (type `route`), the service named in `resource.properties.service`.
// Only an explicit service: a route question never picks its policy by a host it names, so the
// question's properties cannot choose a policy loosely. The AuthZEN caller scope, the access
// decider and `keycard test` all ask this one function; the AuthZEN API asks it once per question
// and hands the answer to the decider.
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { AccessResource } from './types.js';

export type ResourcePolicy =
  | { readonly policies: PolicySet; readonly policy: CompiledPolicy }
  | {
      /** The set that was asked. */
      readonly policies: PolicySet;
      readonly policy: undefined;
      /** The deny reason and detail of a decision about the resource. */
      readonly reason: 'unknown_service' | 'unknown_resource_type';
      readonly detail: string;
    };

/** A resource's policy, found. */
export type FoundPolicy = Extract<ResourcePolicy, { readonly policy: CompiledPolicy }>;

export function policyForResource(policies: PolicySet, resource: Pick<AccessResource, 'type' | 'properties'>): ResourcePolicy {
  if (resource.type === ROUTE_RESOURCE_TYPE) {
    const service = resource.properties?.service;
    if (typeof service !== 'string' || service === '') {
      return { policies, policy: undefined, reason: 'unknown_service', detail: 'a route question names its service in resource.properties.service' };
    }
    const policy = policies.route(service, '');
    return policy ? { policies, policy } : { policies, policy: undefined, reason: 'unknown_service', detail: `service "${service}"` };
  }
  const policy = policies.routeResourceType(resource.type);
  return policy ? { policies, policy } : { policies, policy: undefined, reason: 'unknown_resource_type', detail: `resource type "${resource.type.slice(0, 128)}"` };
}
