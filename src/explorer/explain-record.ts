// The explanation of a recorded decision, in the very words `keycard check` prints: the record
// holds what explainDecision reads (never a credential), so it is put back into a Decision's shape.
import { ANONYMOUS, type Identity } from '../authn/identity.js';
import { explainDecision } from '../cli/explain.js';
import type { DenyReason, DenyStatus } from '../errors.js';
import type { Decision } from '../pipeline/types.js';
import type { ExplorerRecord } from './record.js';

export function explainRecord(record: ExplorerRecord): string[] {
  const identity: Identity =
    record.subject !== undefined
      ? {
          authenticated: true,
          subject: record.subject,
          issuer: record.issuer ?? '',
          credential: record.credential ?? 'jwt',
          claims: { ...record.claims, sub: record.subject },
          expiresAt: 0,
        }
      : ANONYMOUS;
  const decision: Decision = {
    id: record.id,
    allowed: record.decision !== 'deny',
    reason: record.reason as DenyReason | 'allowed',
    status: record.status as 200 | DenyStatus,
    ...(record.dryRun && { dryRun: { reason: record.dryRun.reason as DenyReason, ...(record.dryRun.ruleId !== undefined && { ruleId: record.dryRun.ruleId }) } }),
    service: record.service,
    policyVersion: record.policyVersion,
    ruleId: record.rule,
    identity,
    roles: record.roles,
    forwardIdentity: false,
    permissions: record.permissions,
    challenge: record.challenge,
    trace: record.trace,
    path: record.path,
    clientAddress: record.clientAddress,
    detail: record.detail,
    durationMs: record.latencyMs,
    phaseMs: {},
  };
  const request = { method: record.method, path: record.requestPath, host: record.host, ...(record.requestedService !== undefined && { service: record.requestedService }) };
  return explainDecision(decision, request, { rolesFrom: 'store' });
}
