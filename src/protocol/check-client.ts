// A small ext_authz client: builds CheckRequests the way Envoy does and sends them. Used by
// `keycard check --server`, the integration tests and the benchmarks.
import { credentials, type ServiceError } from '@grpc/grpc-js';
import type { CheckRequest } from './generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse__Output } from './generated/envoy/service/auth/v3/CheckResponse.js';
import type { AuthorizationClient } from './generated/envoy/service/auth/v3/Authorization.js';
import { authorizationService, envoyProtos } from './proto.js';

export interface HttpRequestSpec {
  readonly method?: string;
  readonly host?: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly service?: string;
  readonly sourceAddress?: string;
  /** The mTLS peer identity Envoy would report (`source.principal`), e.g. a SPIFFE ID. */
  readonly sourcePrincipal?: string;
}

export function buildCheckRequest(spec: HttpRequestSpec): CheckRequest {
  const method = spec.method ?? 'GET';
  const host = spec.host ?? 'localhost';
  const headers: Record<string, string> = { ':method': method, ':authority': host, ':path': spec.path };
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    attributes: {
      source: { address: { socket_address: { address: spec.sourceAddress ?? '127.0.0.1', port_value: 40000 } }, ...(spec.sourcePrincipal !== undefined && { principal: spec.sourcePrincipal }) },
      request: { http: { method, host, path: spec.path, headers, protocol: 'HTTP/1.1', scheme: 'http' } },
      context_extensions: spec.service ? { service: spec.service } : {},
    },
  };
}

export function createCheckClient(address: string): AuthorizationClient {
  const Client = authorizationService();
  return new Client(address, credentials.createInsecure());
}

export function check(client: AuthorizationClient, request: CheckRequest, deadlineMs = 5_000): Promise<CheckResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Check(request, { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, response?: CheckResponse__Output) =>
      error || !response ? reject(error ?? new Error('empty response')) : resolve(response),
    );
  });
}

/** The number of an envoy.type.v3.StatusCode, which the loader gives as its name ("Forbidden" → 403). */
export function httpStatusNumber(code: string | number | undefined): number | undefined {
  if (typeof code === 'number' || code === undefined) return code;
  const enumType = envoyProtos().definition['envoy.type.v3.StatusCode'] as unknown as { type: { value: { name: string; number: number }[] } };
  return enumType.type.value.find((value) => value.name === code)?.number;
}
