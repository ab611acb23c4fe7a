// Decision → CheckResponse. Allow is status 0 with an OkHttpResponse; deny is status 16
// (UNAUTHENTICATED) for 401, 7 (PERMISSION_DENIED) for 403, 3 / 14 for 400 / 503, always with a
// DeniedHttpResponse. keycard never answers Check with a gRPC error status.
import type { DenyStatus } from '../errors.js';
import { decisionLabel, type Decision } from '../pipeline/types.js';
import type { HeaderOption, KeycardCheckResponse } from './check-codec.js';
import { planResponse } from './decision-response.js';

const RPC_CODE = { 200: 0, 400: 3, 401: 16, 403: 7, 503: 14 } as const;

export function decisionToCheckResponse(decision: Decision, requestHeaders: ReadonlyMap<string, string>): KeycardCheckResponse {
  const plan = planResponse(decision, requestHeaders);
  const headers = plan.headers.map(([key, value]) => overwrite(key, value));
  const dynamic_metadata = decisionMetadata(decision);
  if (decision.allowed) {
    return {
      status: { code: 0, message: '' },
      ok_response: { headers, headers_to_remove: plan.headersToRemove },
      dynamic_metadata,
    };
  }
  // A deny's plan always carries its deny status (planDeny).
  const status = plan.status as DenyStatus;
  return {
    status: { code: RPC_CODE[status], message: decision.reason },
    denied_response: { status: { code: status }, headers, body: plan.body ?? '' },
    dynamic_metadata,
  };
}

function overwrite(key: string, value: string): HeaderOption {
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

type StringStruct = NonNullable<KeycardCheckResponse['dynamic_metadata']>;

/**
 * Emitted as ext_authz dynamic metadata, so Envoy's access log can join its line to the audit log.
 * A google.protobuf.Struct of string values, snake_case as loaded from the buf descriptor set.
 */
function decisionMetadata(decision: Decision): StringStruct {
  const fields: Record<string, { string_value: string }> = {
    decision_id: { string_value: decision.id },
    decision: { string_value: decisionLabel(decision) },
    reason: { string_value: decision.reason },
  };
  if (decision.service) fields.service = { string_value: decision.service };
  if (decision.ruleId) fields.rule = { string_value: decision.ruleId };
  if (decision.dryRun) fields.dry_run_deny = { string_value: decision.dryRun.reason };
  if (decision.identity.authenticated) fields.subject = { string_value: decision.identity.subject };
  return { fields };
}
