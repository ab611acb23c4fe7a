// The AuthZEN HTTP binding: routes, the caller's authentication, body limits, JSON in and out,
// X-Request-ID echoed on every answer. Bad input is a 4xx with a message naming the problem
// (never a 500); `{error, message}` is every error body. With tracing on, each POST to an
// endpoint is one `keycard.authzen` span continuing the caller's trace (src/tracing/authzen-trace.ts).
import { DenyError, denySpec } from '../errors.js';
import { BodyTooLarge, readBody } from '../server/read-body.js';
import type { Logger } from '../log/logger.js';
import type { AuthzenTrace } from '../tracing/authzen-trace.js';
import { arrivalMark, type Tracing } from '../tracing/tracer.js';
import type { AuthzenApi, ApiAnswer, CallContext } from './api.js';
import type { CallerGate } from './caller.js';
import { DualProtocolListener, type AnyRequest, type AnyResponse } from './listener.js';
import { metadataDocument, METADATA_PATH, type Endpoint, ENDPOINT_PATHS } from './metadata.js';
import { BadRequest, parseJsonBody } from './request-shapes.js';
import type { AuthzenSettings } from './settings.js';

export interface AuthzenServerDeps {
  readonly settings: AuthzenSettings;
  readonly api: AuthzenApi;
  readonly gate: CallerGate;
  readonly logger: Logger;
  readonly maxHeaderBytes: number;
  /** Settings `tracing`; undefined when off. */
  readonly tracing?: Tracing;
  /** Told of every answer: endpoint (or `other`) and HTTP status (metrics). */
  readonly onAnswer?: (endpoint: Endpoint | 'metadata' | 'other', status: number) => void;
}

/** Request ids longer than this, or with characters a header value cannot carry back, are not echoed. */
const MAX_REQUEST_ID_LENGTH = 256;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class AuthzenServer {
  private readonly listener: DualProtocolListener;
  private readonly routes: ReadonlyMap<string, Endpoint>;

  constructor(private readonly deps: AuthzenServerDeps) {
    this.routes = new Map(Object.entries(ENDPOINT_PATHS).filter(([endpoint]) => this.enabled(endpoint as Endpoint)).map(([endpoint, path]) => [path, endpoint as Endpoint]));
    this.listener = new DualProtocolListener({
      listen: deps.settings.listen,
      maxHeaderBytes: deps.maxHeaderBytes,
      handler: (request, response, peer) => void this.handle(request, response, peer),
    });
  }

  async start(): Promise<number> {
    return this.listener.start();
  }

  /** Answers the requests in flight (up to `graceMs`), then closes every connection. */
  async stop(graceMs: number): Promise<void> {
    await this.listener.stop(graceMs);
  }

  private enabled(endpoint: Endpoint): boolean {
    return this.deps.settings.search.enabled || !endpoint.startsWith('search');
  }

  private async handle(request: AnyRequest, response: AnyResponse, peer: string | undefined): Promise<void> {
    const { tracing } = this.deps;
    const receivedAt = arrivalMark(tracing);
    const requestId = requestIdOf(request.headers['x-request-id']);
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const endpoint = this.routes.get(path);
    const label = endpoint ?? (path === METADATA_PATH ? 'metadata' : 'other');
    // Only the endpoints' POSTs are traced: metadata, 404s and 405s decide nothing.
    const trace = tracing && endpoint && request.method === 'POST' ? tracing.beginAuthzen(headerMap(request), { endpoint, route: path, ...(requestId !== undefined && { requestId }) }, receivedAt) : undefined;
    let answer: ApiAnswer & { headers?: Record<string, string> };
    try {
      answer = await this.answer(request, path, endpoint, peer, requestId, trace);
    } catch (error) {
      answer = this.failure(error);
    }
    this.deps.onAnswer?.(label, answer.status);
    try {
      const text = JSON.stringify(answer.body);
      // With a Content-Length an HTTP/1.1 answer goes out in one write, not as chunks.
      const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)) };
      if (answer.headers) Object.assign(headers, answer.headers);
      if (requestId !== undefined) headers['x-request-id'] = requestId;
      if (!response.headersSent) response.writeHead(answer.status, headers);
      response.end(text);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'authzen answer could not be written');
    }
    trace?.end({ httpStatus: answer.status, ...(answer.status >= 500 && { errorType: errorCode(answer.body) }) });
  }

  private async answer(
    request: AnyRequest,
    path: string,
    endpoint: Endpoint | undefined,
    peer: string | undefined,
    requestId: string | undefined,
    trace: AuthzenTrace | undefined,
  ): Promise<ApiAnswer & { headers?: Record<string, string> }> {
    if (path === METADATA_PATH) {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${path} takes GET`, { allow: 'GET, HEAD' });
      const document = metadataDocument(this.deps.settings, hostOf(request), (endpointName) => this.enabled(endpointName));
      return { status: 200, body: document, headers: { 'cache-control': 'max-age=300' } };
    }
    if (!endpoint) throw new HttpError(404, 'not_found', `no AuthZEN endpoint at ${path}`);
    if (request.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${path} takes POST`, { allow: 'POST' });
    const headers = headerMap(request);
    const callerRequest = { method: 'POST', url: request.url ?? path, headers, remoteAddress: peer };
    const caller = await (trace ? trace.authenticating(() => this.deps.gate.authenticate(callerRequest)) : this.deps.gate.authenticate(callerRequest));
    if (!caller.ok) throw new HttpError(caller.status, caller.reason, caller.message, caller.wwwAuthenticate ? { 'www-authenticate': caller.wwwAuthenticate } : {});
    const contentType = headers.get('content-type');
    if (contentType !== 'application/json' && (contentType === undefined || !/^application\/json\s*(;|$)/i.test(contentType))) {
      throw new HttpError(415, 'unsupported_media_type', `send the request body as Content-Type: application/json${contentType === undefined ? '' : `, not ${contentType}`}`);
    }
    const body = parseJsonBody(await readBody(request, this.deps.settings.maxBodyBytes));
    const call: CallContext = { caller: caller.identity, requestId, ...(trace && { trace }) };
    const api = this.deps.api;
    switch (endpoint) {
      case 'evaluation':
        return api.evaluation(body, call);
      case 'evaluations':
        return api.evaluations(body, call);
      case 'searchSubject':
        return api.searchSubject(body, call);
      case 'searchResource':
        return api.searchResource(body, call);
      case 'searchAction':
        return api.searchAction(body, call);
    }
  }

  private failure(error: unknown): ApiAnswer & { headers?: Record<string, string> } {
    if (error instanceof HttpError) return { status: error.status, body: { error: error.code, message: error.message }, headers: error.headers };
    if (error instanceof BodyTooLarge) return { status: 413, body: { error: 'payload_too_large', message: error.message } };
    if (error instanceof BadRequest) return { status: 400, body: { error: 'bad_request', message: error.message } };
    if (error instanceof DenyError && denySpec(error.reason).status === 503) {
      return { status: 503, body: { error: error.reason, message: denySpec(error.reason).message } };
    }
    this.deps.logger.error({ err: error }, 'authzen request failed');
    return { status: 500, body: { error: 'internal_error', message: 'the request could not be answered' } };
  }
}

/** The `error` code of an error body, for the span's error.type. */
function errorCode(body: unknown): string | undefined {
  const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof code === 'string' ? code : undefined;
}

function requestIdOf(value: string | string[] | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value;
  // eslint-disable-next-line no-control-regex
  if (id === undefined || id === '' || id.length > MAX_REQUEST_ID_LENGTH || /[\x00-\x1f\x7f]/.test(id)) return undefined;
  return id;
}

function headerMap(request: AnyRequest): Map<string, string> {
  const headers = new Map<string, string>();
  const all = request.headers;
  for (const name in all) {
    const value = all[name];
    if (value === undefined || name.charCodeAt(0) === 0x3a /* ":" (HTTP/2 pseudo-header) */) continue;
    headers.set(name, typeof value === 'string' ? value : value.join(', '));
  }
  return headers;
}

function hostOf(request: AnyRequest): string | undefined {
  const host = request.headers.host ?? request.headers[':authority'];
  const value = Array.isArray(host) ? host[0] : host;
  return value !== undefined && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(value) ? value : undefined;
}
