// The AccessModel over keycard's own parts: the access decider (same evaluator as Check), the
// policy set in force (policyForResource: which policy owns a resource type; the route special
// case by service name) and the policy-side caller scope and action lists.
import type { AccessDecider } from '../access/access-decider.js';
import { mayAsk } from '../access/caller-scope.js';
import { declaredActions } from '../access/declared-actions.js';
import { policyForResource } from '../access/resource-policy.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { AccessModel } from './access-model.js';

export function keycardAccessModel(access: AccessDecider, policies: () => PolicySet | undefined): AccessModel {
  return {
    decide: (question, phases, found, purpose) => access.decide(question, phases, found, purpose),
    policyFor(resource) {
      const set = policies();
      return set && policyForResource(set, resource);
    },
    mayAsk,
    declaredActions,
  };
}
