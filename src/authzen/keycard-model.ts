// The AccessModel over keycard's own parts: the access decider (same evaluator as Check), the
// policy set in force (which policy owns a resource type; the route special case by service
// name) and the policy-side caller scope and action lists.
import type { AccessDecider } from '../access/access-decider.js';
import { mayAsk } from '../access/caller-scope.js';
import { declaredActions } from '../access/declared-actions.js';
import type { PolicySet } from '../policy/policy-set.js';
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import type { AccessModel } from './access-model.js';

export function keycardAccessModel(access: AccessDecider, policies: () => PolicySet | undefined): AccessModel {
  return {
    decide: (question, phases) => access.decide(question, phases),
    policyFor(resource) {
      const set = policies();
      if (!set) return undefined;
      if (resource.type === ROUTE_RESOURCE_TYPE) {
        const service = resource.properties?.service;
        // Only an explicit service: routing by host would let the question's properties pick the policy loosely.
        return typeof service === 'string' && set.has(service) ? set.route(service, '') : undefined;
      }
      return set.routeResourceType(resource.type);
    },
    mayAsk,
    declaredActions,
  };
}
