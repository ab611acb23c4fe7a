// Decision → CheckResponse. Allow is status 0 with an OkHttpResponse; deny is status 16
// (UNAUTHENTICATED) for 401, 7 (PERMISSION_DENIED) for 403, 3 / 14 for 400 / 503, always with a
// DeniedHttpResponse. keycard never answers Check with a gRPC error status.
import type { CheckResponse } from './generated/envoy/service/auth/v3/CheckResponse.js';
import type { HeaderValueOption } from './generated/envoy/config/core/v3/HeaderValueOption.js';
import type { Struct } from './generated/google/protobuf/Struct.js';
import { decisionLabel, type Decision } from '../pipeline/types.js';
import { planResponse } from './decision-response.js';

const RPC_CODE = { 200: 0, 400: 3, 401: 16, 403: 7, 503: 14 } as const;

export function decisionToCheckResponse(decision: Decision, requestHeaders: ReadonlyMap<string, string>): CheckResponse {
  const plan = planResponse(decision, requestHeaders);
  const headers = plan.headers.map(([key, value]) => overwrite(key, value));
  const dynamic_metadata = decisionMetadata(decision);
  if (decision.allowed) {
    return {
      status: { code: 0, message: '' },
      ok_response: { headers, headers_to_remove: [...plan.headersToRemove] },
      dynamic_metadata,
    };
  }
  return {
    status: { code: RPC_CODE[plan.status], message: decision.reason },
    denied_response: { status: { code: plan.status }, headers, body: plan.body ?? '' },
    dynamic_metadata,
  };
}

function overwrite(key: string, value: string): HeaderValueOption {
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/** Emitted as ext_authz dynamic metadata, so Envoy's access log can join its line to the audit log. */
function decisionMetadata(decision: Decision): Struct {
  const fields: Record<string, string> = {
    decision_id: decision.id,
    decision: decisionLabel(decision),
    reason: decision.reason,
  };
  if (decision.service) fields.service = decision.service;
  if (decision.ruleId) fields.rule = decision.ruleId;
  if (decision.dryRun) fields.dry_run_deny = decision.dryRun.reason;
  if (decision.identity.authenticated) fields.subject = decision.identity.subject;
  const struct = { fields: Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, { string_value: value }])) };
  // The runtime loads google.protobuf.Struct from the buf descriptor set (snake_case `string_value`);
  // proto-loader-gen-types describes it from protobufjs's bundled copy (camelCase). The wire
  // encoding is checked by test/protocol/check-response.test.ts.
  return struct as unknown as Struct;
}
