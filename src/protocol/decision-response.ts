// What a decision means for the proxied request, independent of the wire protocol: headers to
// set on (allow) or answer with (deny), client headers to strip, status and body. The gRPC Check
// response and the HTTP check mode are both rendered from this.
import { denySpec } from '../errors.js';
import type { Decision } from '../pipeline/types.js';
import type { Challenge } from '../policy/evaluate.js';
import { prefersHtml } from './accept.js';
import { DENY_PAGE_CONTENT_TYPE, DENY_PAGE_HEADERS, renderDenyPage } from './deny-page.js';

/** Every header keycard sets lives under this prefix; client-sent copies are always removed. */
export const IDENTITY_HEADER_PREFIX = 'x-keycard-';
export const DECISION_ID_HEADER = `${IDENTITY_HEADER_PREFIX}decision-id`;

export interface ResponsePlan {
  readonly status: Decision['status'];
  /** Allow: headers for the upstream request. Deny: headers of the answer to the client. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Allow only: client-sent headers to strip from the upstream request. */
  readonly headersToRemove: readonly string[];
  /** Deny only: JSON body for the client (or the HTML deny page, see planDeny). */
  readonly body?: string;
}

const ERROR_BY_STATUS = { 400: 'bad_request', 401: 'unauthenticated', 403: 'forbidden', 503: 'unavailable' } as const;

export function planResponse(decision: Decision, requestHeaders: ReadonlyMap<string, string>): ResponsePlan {
  if (decision.allowed) return planAllow(decision, requestHeaders);
  return planDeny(decision, requestHeaders);
}

function planAllow(decision: Decision, requestHeaders: ReadonlyMap<string, string>): ResponsePlan {
  const headers: [string, string][] = [[DECISION_ID_HEADER, decision.id]];
  const { identity } = decision;
  if (decision.forwardIdentity && identity.authenticated) {
    headers.push([`${IDENTITY_HEADER_PREFIX}subject`, identity.subject]);
    headers.push([`${IDENTITY_HEADER_PREFIX}issuer`, identity.issuer]);
    headers.push([`${IDENTITY_HEADER_PREFIX}roles`, [...decision.roles].sort().join(',')]);
  }
  if (decision.permissions) headers.push([`${IDENTITY_HEADER_PREFIX}permissions`, decision.permissions.join(',')]);
  // Its name starts with the prefix (settings check), so a client-sent copy is removed below when none is set.
  if (decision.identityToken) headers.push([decision.identityToken.header, decision.identityToken.token]);
  const setNames = new Set(headers.map(([name]) => name));
  const headersToRemove: string[] = [];
  for (const name of requestHeaders.keys()) {
    // x_keycard_subject too: CGI, WSGI, Rack and others read "_" and "-" in names alike.
    if (name.replace(/_/g, '-').startsWith(IDENTITY_HEADER_PREFIX) && !setNames.has(name)) headersToRemove.push(name);
  }
  return { status: 200, headers, headersToRemove };
}

/** JSON, or the HTML deny page when the service turned it on and the client strictly prefers text/html. */
function planDeny(decision: Decision, requestHeaders: ReadonlyMap<string, string>): ResponsePlan {
  if (decision.reason === 'allowed') throw new Error('planDeny called for an allow');
  const spec = denySpec(decision.reason);
  const page = decision.denyPage;
  const html = page !== undefined && prefersHtml(requestHeaders.get('accept'));
  const headers: [string, string][] = [
    [DECISION_ID_HEADER, decision.id],
    ['content-type', html ? DENY_PAGE_CONTENT_TYPE : 'application/json'],
    ['cache-control', 'no-store'],
  ];
  // Both answers depend on Accept once the page is on, so no cache may hand one out for the other.
  if (page) headers.push(['vary', 'accept']);
  if (spec.status === 401 || spec.bearerError) {
    headers.push(['www-authenticate', bearerChallenge(decision.service, spec.bearerError, spec.message, decision.challenge)]);
  }
  if (html) return { status: spec.status, headers: [...headers, ...DENY_PAGE_HEADERS], headersToRemove: [], body: renderDenyPage(decision, page) };
  const { challenge } = decision;
  const body = JSON.stringify({
    error: ERROR_BY_STATUS[spec.status],
    reason: decision.reason,
    message: spec.message,
    ...(challenge?.scope && { scope: challenge.scope.join(' ') }),
    ...(challenge?.acrValues && { acr_values: challenge.acrValues.join(' ') }),
    ...(challenge?.maxAgeSeconds !== undefined && { max_age: challenge.maxAgeSeconds }),
    decision_id: decision.id,
  });
  return { status: spec.status, headers, headersToRemove: [], body };
}

/**
 * RFC 6750 §3: no error attributes when the request simply lacked a credential; `scope` for
 * insufficient_scope; RFC 9470 §3: `acr_values` and `max_age` for a step-up.
 */
export function bearerChallenge(service: string | undefined, error: string | undefined, description: string, challenge: Challenge | undefined): string {
  const parts = [`Bearer realm="${service ?? 'keycard'}"`];
  if (error) parts.push(`error="${error}"`, `error_description="${description}"`);
  if (challenge?.scope) parts.push(`scope="${challenge.scope.join(' ')}"`);
  if (challenge?.acrValues) parts.push(`acr_values="${challenge.acrValues.join(' ')}"`);
  if (challenge?.maxAgeSeconds !== undefined) parts.push(`max_age=${challenge.maxAgeSeconds}`);
  return parts.join(', ');
}
