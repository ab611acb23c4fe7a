// A keycard Decision → the AuthZEN Decision object: `{decision, context}`. The context carries
// the decision id (to find the audit line), the catalogue reason code, the deciding rule, a
// message safe to show the user (the spec's `reason_user`, keyed language-status as in its
// example) and, for step-up denies, the hints in the spec's example form (`acr_values`, a
// space-separated string; `max_age`; `scope`). The internal detail stays in the audit log.
import type { JsonObject } from '../access/types.js';
import { denySpec } from '../errors.js';
import type { Decision } from '../pipeline/types.js';

export interface AuthzenDecision {
  readonly decision: boolean;
  readonly context?: JsonObject;
}

export function toAuthzenDecision(decision: Decision): AuthzenDecision {
  const context: Record<string, JsonObject[string]> = { id: decision.id, reason: decision.reason };
  if (decision.ruleId !== undefined) context.rule = decision.ruleId;
  if (decision.dryRun) {
    // Allowed only because the policy is in dry-run: say what would have been enforced.
    context.dry_run = { reason: decision.dryRun.reason, ...(decision.dryRun.ruleId !== undefined && { rule: decision.dryRun.ruleId }) };
  }
  if (!decision.allowed && decision.reason !== 'allowed') {
    const spec = denySpec(decision.reason);
    context.reason_user = { [`en-${spec.status}`]: spec.message };
    const challenge = decision.challenge;
    if (challenge?.acrValues && challenge.acrValues.length > 0) context.acr_values = challenge.acrValues.join(' ');
    if (challenge?.maxAgeSeconds !== undefined) context.max_age = challenge.maxAgeSeconds;
    if (challenge?.scope && challenge.scope.length > 0) context.scope = challenge.scope.join(' ');
  }
  return { decision: decision.allowed, context };
}

/** A per-item failure inside a batch, in the spec's per-item error form: decision false (closed). */
export function itemError(status: number, message: string): AuthzenDecision {
  return { decision: false, context: { error: { status, message } } };
}
