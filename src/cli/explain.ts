// A decision in words, for `keycard check` and failed `keycard test` cases: the service chosen,
// who called, with which roles, every rule that matched the request and what became of it, and
// the final decision with its reason.
import { denySpec } from '../errors.js';
import { decisionLabel, type Decision } from '../pipeline/types.js';
import type { RuleTrace } from '../policy/evaluate.js';

export interface ExplainedRequest {
  readonly method?: string;
  readonly path: string;
  readonly host?: string;
  readonly service?: string;
  /** An access question: `path` is then the resource id. */
  readonly access?: { readonly action: string; readonly resourceType: string };
}

export interface ExplainOptions {
  /** Where the roles came from: the live store, or given (`--roles`, a test case's `caller.roles`). */
  readonly rolesFrom: 'store' | 'given';
}

/** Claims every token carries; the explanation lists only the others. */
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

export function explainDecision(decision: Decision, request: ExplainedRequest, options: ExplainOptions): string[] {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(9)} ${text}`);

  if (request.access) {
    row('question', `${request.access.action} on ${request.access.resourceType} ${JSON.stringify(request.path)} (access question)`);
    row('service', decision.service ?? `none (${decision.reason})`);
  } else {
    const method = (request.method ?? 'GET').toUpperCase();
    const normalized = decision.path !== undefined && decision.path !== request.path ? ` (normalized: ${decision.path})` : '';
    row('request', `${method} ${request.path}${normalized}${request.host ? ` host ${request.host}` : ''}${decision.clientAddress ? ` from ${decision.clientAddress}` : ''}`);
    row('service', describeService(decision, request));
  }

  const { identity } = decision;
  if (identity.authenticated) {
    const claims = Object.entries(identity.claims).filter(([name]) => !REGISTERED_CLAIMS.has(name));
    const claimText = claims.length > 0 ? `; claims ${claims.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}` : '';
    row('caller', `${identity.subject} (issuer ${identity.issuer})${claimText}`);
    const source = options.rolesFrom === 'store' ? 'from the store' : 'given';
    row('roles', `${decision.roles.length > 0 ? decision.roles.join(', ') : 'none'} (${source})`);
  } else {
    row('caller', 'anonymous');
  }

  if (decision.service !== undefined) {
    if (decision.trace.length === 0) {
      row('rules', 'no rule matches the request');
    } else {
      row('rules', 'evaluated for this request, in policy order:');
      const width = Math.max(...decision.trace.map((rule) => rule.id.length));
      for (const rule of decision.trace) lines.push(`  ${rule.id.padEnd(width)}  ${rule.effect.padEnd(5)}  ${describeOutcome(rule)}`);
    }
  }

  row('decision', describeDecision(decision));
  if (decision.challenge) row('challenge', describeChallenge(decision.challenge));
  if (decision.permissions) row('perms', decision.permissions.length > 0 ? decision.permissions.join(', ') : 'none');
  // The trace already says why a rule failed; the detail explains denies that happen before rules.
  if (decision.detail && decision.trace.length === 0 && decision.reason !== 'unknown_service') row('detail', decision.detail);
  return lines;
}

function describeService(decision: Decision, request: ExplainedRequest): string {
  const named = request.service !== undefined && request.service !== '';
  const how = named ? 'named by the request' : `by host "${request.host ?? ''}"`;
  if (decision.service !== undefined) return `${decision.service} (${how})`;
  if (decision.reason === 'unknown_service') return `none: no policy serves ${named ? `service "${request.service}"` : `host "${request.host ?? ''}"`}`;
  return 'none: the request was rejected before routing';
}

function describeOutcome(rule: RuleTrace): string {
  const dryRun = rule.dryRun ? ' (dry run: recorded, not enforced)' : '';
  switch (rule.outcome) {
    case 'applied':
      return `applied${rule.chain ? ` via ${rule.chain.join(' → ')}` : ''}${dryRun}`;
    case 'condition_failed':
      return `not applied: ${rule.failed ?? 'a condition failed'}${dryRun}`;
    case 'needs_authentication':
      return `not applied: needs an authenticated caller${dryRun}`;
    case 'insufficient_scope':
      return `not applied, insufficient scope: ${rule.failed ?? ''}${dryRun}`;
    case 'step_up':
      return `not applied, needs step-up authentication: ${rule.failed ?? ''}${dryRun}`;
  }
}

function describeDecision(decision: Decision): string {
  const label = decisionLabel(decision);
  if (decision.dryRun) {
    const rule = decision.dryRun.ruleId ? ` by rule ${decision.dryRun.ruleId}` : '';
    return `${label} ${decision.status}: allowed because of dry-run; enforcing would deny with ${decision.dryRun.reason}${rule}`;
  }
  const rule = decision.ruleId ? ` by rule ${decision.ruleId}` : '';
  const message = decision.reason === 'allowed' ? '' : ` (${denySpec(decision.reason).message})`;
  return `${label} ${decision.status} ${decision.reason}${rule}${message}`;
}

function describeChallenge(challenge: NonNullable<Decision['challenge']>): string {
  const parts: string[] = [];
  if (challenge.scope) parts.push(`scope "${challenge.scope.join(' ')}"`);
  if (challenge.acrValues) parts.push(`acr_values "${challenge.acrValues.join(' ')}"`);
  if (challenge.maxAgeSeconds !== undefined) parts.push(`max_age ${challenge.maxAgeSeconds}`);
  return parts.length > 0 ? parts.join(', ') : '(re-authenticate; no acr_values are configured for MFA)';
}
