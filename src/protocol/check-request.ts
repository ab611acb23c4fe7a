// CheckRequest (Envoy ext_authz v3) → AuthzInput. Envoy sends headers either as the `headers`
// map or, with `encode_raw_headers`, as `header_map`; both are read.
import type { CheckRequest__Output } from './generated/envoy/service/auth/v3/CheckRequest.js';
import type { AuthzInput } from '../pipeline/types.js';

export function checkRequestToInput(request: CheckRequest__Output): AuthzInput {
  const attributes = request.attributes;
  const http = attributes?.request?.http;
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(http?.headers ?? {})) headers.set(name.toLowerCase(), value);
  for (const entry of http?.header_map?.headers ?? []) {
    const name = entry.key.toLowerCase();
    const value = entry.raw_value.length > 0 ? entry.raw_value.toString('utf8') : entry.value;
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  const contextExtensions = attributes?.context_extensions ?? {};
  const source = attributes?.source;
  return {
    method: (http?.method || headers.get(':method') || '').toUpperCase(),
    host: http?.host || headers.get(':authority') || headers.get('host') || '',
    path: http?.path || headers.get(':path') || '',
    headers,
    service: contextExtensions.service,
    source: {
      address: source?.address?.socket_address?.address || undefined,
      principal: source?.principal || undefined,
    },
    contextExtensions,
    requestId: http?.id || headers.get('x-request-id') || undefined,
  };
}
