// The HTTP check mode's wire format: an authorization sub-request from a proxy (Envoy
// `http_service`, nginx `auth_request`, Traefik `forwardAuth`) → AuthzInput, and a decision → the
// HTTP answer. Only this module knows how those proxies describe the original request.
//
// - The original method, URI and host come from the proxy's headers when present
//   (`X-Original-Method`/`X-Forwarded-Method`, `X-Original-URI`/`X-Forwarded-Uri`,
//   `X-Forwarded-Host`), else from the sub-request itself (Envoy forwards the original method,
//   host and path, behind an optional `path_prefix`).
// - A path starting with `/service/NAME` names the service (Envoy: `path_prefix: /service/NAME`;
//   nginx: `proxy_pass http://keycard/service/NAME;`). The proxy's configuration chooses it,
//   never a client header.
// These headers are believed because only the proxy can reach the HTTP check listener; see README.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthzInput, Decision } from '../pipeline/types.js';
import { planResponse, type ResponsePlan } from './decision-response.js';

const METHOD_HEADERS = ['x-original-method', 'x-forwarded-method'];
const URI_HEADERS = ['x-original-uri', 'x-forwarded-uri'];
const HOST_HEADERS = ['x-forwarded-host'];
const SERVICE_PATH = /^\/service\/([A-Za-z0-9][A-Za-z0-9_.:-]*)(\/.*)?$/;

/** Envoy's http_service lets the answer name request headers to remove from the upstream request. */
export const ENVOY_HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

export interface SubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
}

export function subRequestToInput(request: SubRequest): AuthzInput {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(',') : value);
  }
  const first = (names: readonly string[]) => names.map((name) => headers.get(name)).find((value) => value !== undefined && value !== '');

  const serviceMatch = SERVICE_PATH.exec(request.url.split('?')[0] ?? '');
  const service = serviceMatch?.[1];
  // Envoy appends the original path (with its query) after the prefix.
  const forwardedPath = serviceMatch ? request.url.slice(`/service/${service}`.length) || '/' : request.url;
  return {
    method: (first(METHOD_HEADERS) ?? request.method).toUpperCase(),
    host: first(HOST_HEADERS) ?? headers.get('host') ?? '',
    path: first(URI_HEADERS) ?? forwardedPath,
    headers,
    service,
    source: { address: request.remoteAddress },
    contextExtensions: service ? { service } : {},
    requestId: headers.get('x-request-id'),
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Allow: 200 with the identity headers to copy upstream. Deny: the same status, headers and JSON body as the gRPC mode. */
export function decisionToHttpAnswer(decision: Decision, requestHeaders: ReadonlyMap<string, string>): HttpAnswer {
  const plan: ResponsePlan = planResponse(decision, requestHeaders);
  const headers = Object.fromEntries(plan.headers);
  if (plan.headersToRemove.length > 0) headers[ENVOY_HEADERS_TO_REMOVE] = plan.headersToRemove.join(',');
  return { status: plan.status, headers, body: plan.body ?? '' };
}
