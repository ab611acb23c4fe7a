// The explanation of a recorded decision, in the very words `keycard check` prints: the record
// holds what explainDecision reads (never a credential), so it is put back into a Decision's shape.
// An access decision is explained as `keycard check`/`keycard test` explain an access question:
// its subject (asserted by the AuthZEN caller, issuer `authzen`), roles, rules and decision.
import { ASSERTED_ISSUER } from '../access/asserted-identity.js';
import { ANONYMOUS, type Identity } from '../authn/identity.js';
import { explainDecision, type ExplainedRequest } from '../cli/explain.js';
import type { DenyReason, DenyStatus } from '../errors.js';
import type { Decision } from '../pipeline/types.js';
import type { AccessRecord } from './access-record.js';
import type { CheckRecord, ExplorerRecord } from './record.js';

export function explainRecord(record: ExplorerRecord): string[] {
  return record.kind === 'access' ? explainAccess(record) : explainCheck(record);
}

function explainCheck(record: CheckRecord): string[] {
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
    ...decisionFields(record, identity),
    permissions: record.permissions,
    clientAddress: record.clientAddress,
  };
  const request = { method: record.method, path: record.requestPath, host: record.host, ...(record.requestedService !== undefined && { service: record.requestedService }) };
  return explainDecision(decision, request, { rolesFrom: 'store' });
}

function explainAccess(record: AccessRecord): string[] {
  const identity: Identity = { authenticated: true, subject: record.subject, issuer: ASSERTED_ISSUER, credential: 'authzen', claims: { sub: record.subject }, expiresAt: 0 };
  const request: ExplainedRequest = { path: record.resourceId, access: { action: record.action, resourceType: record.resourceType } };
  return explainDecision(decisionFields(record, identity), request, { rolesFrom: 'store' });
}

/** What both kinds of record hold, as a Decision. */
function decisionFields(record: ExplorerRecord, identity: Identity): Decision {
  return {
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
    challenge: record.challenge,
    trace: record.trace,
    path: record.path,
    detail: record.detail,
    durationMs: record.latencyMs,
    phaseMs: {},
  };
}
