// A small typed client for the AuthZEN Authorization API 1.0 (keycard's `authzen:` listener, or
// any conforming PDP), for Node services. Connections are kept alive; every call has a timeout.
// It fails closed: evaluate() and evaluations() never reject and never allow on a failure: a
// network error, a timeout, a non-2xx answer or a malformed answer is `decision: false` with
// `context.error` saying what went wrong. Searches reject with AuthzenError instead (an empty
// result would hide the failure, and search results grant nothing by themselves).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { randomUUID } from 'node:crypto';
import type { AccessAction, AccessResource, AccessSubject, JsonObject } from '../access/types.js';

export type { AccessAction, AccessResource, AccessSubject, JsonObject, JsonValue } from '../access/types.js';

export interface AuthzenClientOptions {
  /** The PDP's base URL (`policy_decision_point`), e.g. http://keycard:8181. */
  readonly baseUrl: string;
  /** A bearer token, or a function giving the current one (called per request). */
  readonly token?: string | (() => string | Promise<string>);
  /** Per-call deadline, connection included. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** Answers larger than this are treated as malformed. Default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** Extra headers on every request (e.g. an API key header). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface EvaluationRequest {
  readonly subject: AccessSubject;
  readonly action: AccessAction;
  readonly resource: AccessResource;
  readonly context?: JsonObject;
}

export interface Decision {
  readonly decision: boolean;
  readonly context?: JsonObject;
}

export type EvaluationsSemantic = 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit';

export interface EvaluationsRequest {
  readonly subject?: AccessSubject;
  readonly action?: AccessAction;
  readonly resource?: AccessResource;
  readonly context?: JsonObject;
  readonly evaluations: readonly Partial<EvaluationRequest>[];
  readonly options?: { readonly evaluations_semantic?: EvaluationsSemantic } & JsonObject;
}

export interface EvaluationsResponse {
  readonly evaluations: readonly Decision[];
}

export interface Page {
  readonly token?: string;
  readonly limit?: number;
}

export interface SubjectSearchRequest {
  readonly subject: { readonly type: string };
  readonly action: AccessAction;
  readonly resource: AccessResource;
  readonly context?: JsonObject;
  readonly page?: Page;
}

export interface ResourceSearchRequest {
  readonly subject: AccessSubject;
  readonly action: AccessAction;
  readonly resource: { readonly type: string };
  readonly context?: JsonObject;
  readonly page?: Page;
}

export interface ActionSearchRequest {
  readonly subject: AccessSubject;
  readonly resource: AccessResource;
  readonly context?: JsonObject;
  readonly page?: Page;
}

export interface SearchResponse<T> {
  readonly results: readonly T[];
  /** `next_token` is empty on the last page. */
  readonly page: { readonly next_token: string; readonly count?: number; readonly properties?: JsonObject };
}

export interface CallOptions {
  /** Sent as X-Request-ID (a random one otherwise). */
  readonly requestId?: string;
}

/** A search that could not be answered: status is the HTTP status, or 0 for network errors and timeouts. */
export class AuthzenError extends Error {
  override readonly name = 'AuthzenError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export class AuthzenClient {
  private readonly base: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: AuthzenClientOptions) {
    this.base = new URL(options.baseUrl.replace(/\/+$/, ''));
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new TypeError(`baseUrl must be http or https, not ${this.base.protocol}`);
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** One decision; `decision: false` with `context.error` on any failure. */
  async evaluate(request: EvaluationRequest, call: CallOptions = {}): Promise<Decision> {
    try {
      const answer = await this.post('/access/v1/evaluation', request, call);
      if (!isDecision(answer)) return denied('malformed_response', 'the answer has no boolean decision');
      return answer;
    } catch (error) {
      return deniedBy(error);
    }
  }

  /**
   * A batch. On failure every requested item is `decision: false` with `context.error`. An
   * answer with more items than asked, or (for execute_all) fewer, is malformed.
   */
  async evaluations(request: EvaluationsRequest, call: CallOptions = {}): Promise<EvaluationsResponse> {
    const asked = request.evaluations.length;
    const everyItem = (decision: Decision): EvaluationsResponse => ({ evaluations: Array.from({ length: Math.max(asked, 1) }, () => decision) });
    try {
      const answer = await this.post('/access/v1/evaluations', request, call);
      // No items asked: the PDP answers as a single evaluation (spec).
      if (asked === 0) return isDecision(answer) ? { evaluations: [answer] } : everyItem(denied('malformed_response', 'the answer has no boolean decision'));
      const items = (answer as { evaluations?: unknown } | null)?.evaluations;
      const semantic = request.options?.evaluations_semantic ?? 'execute_all';
      const sizeOk = Array.isArray(items) && items.length <= asked && (semantic !== 'execute_all' || items.length === asked) && items.length > 0;
      if (!sizeOk || !items.every(isDecision)) return everyItem(denied('malformed_response', 'the answer is not one decision per evaluation'));
      return { evaluations: items };
    } catch (error) {
      return everyItem(deniedBy(error));
    }
  }

  searchSubjects(request: SubjectSearchRequest, call: CallOptions = {}): Promise<SearchResponse<{ type: string; id: string }>> {
    return this.search('/access/v1/search/subject', request, call, (item) => isTyped(item));
  }

  searchResources(request: ResourceSearchRequest, call: CallOptions = {}): Promise<SearchResponse<{ type: string; id: string }>> {
    return this.search('/access/v1/search/resource', request, call, (item) => isTyped(item));
  }

  searchActions(request: ActionSearchRequest, call: CallOptions = {}): Promise<SearchResponse<{ name: string }>> {
    return this.search('/access/v1/search/action', request, call, (item) => typeof (item as { name?: unknown } | null)?.name === 'string');
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async search<T>(path: string, request: object, call: CallOptions, valid: (item: unknown) => boolean): Promise<SearchResponse<T>> {
    let answer: unknown;
    try {
      answer = await this.post(path, request, call);
    } catch (error) {
      throw error instanceof AuthzenError ? error : new AuthzenError((error as Error).message, 0);
    }
    const { results, page } = (answer ?? {}) as { results?: unknown; page?: { next_token?: unknown } };
    if (!Array.isArray(results) || !results.every(valid) || (page !== undefined && typeof page?.next_token !== 'string')) {
      throw new AuthzenError('the answer is not a search response', 200);
    }
    return { results: results as T[], page: page ? (page as SearchResponse<T>['page']) : { next_token: '' } };
  }

  private async post(path: string, body: object, call: CallOptions): Promise<unknown> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const payload = JSON.stringify(body);
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}${path}`, this.base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<unknown>((resolve, reject) => {
      const request = send(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            ...this.options.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'x-request-id': call.requestId ?? randomUUID(),
            ...(token !== undefined && { authorization: `Bearer ${token}` }),
          },
        },
        (response) => void this.read(response).then(resolve, reject),
      );
      // One deadline for the whole call, connecting and reading included.
      const timer = setTimeout(() => request.destroy(new AuthzenError(`no answer within ${this.timeoutMs} ms`, 0)), this.timeoutMs);
      request.once('close', () => clearTimeout(timer));
      request.once('error', (error) => {
        clearTimeout(timer);
        reject(error instanceof AuthzenError ? error : new AuthzenError(`request failed: ${error.message}`, 0));
      });
      request.end(payload);
    });
  }

  private async read(response: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxResponseBytes) {
        response.destroy();
        throw new AuthzenError(`the answer exceeds ${this.maxResponseBytes} bytes`, response.statusCode ?? 0);
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const status = response.statusCode ?? 0;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AuthzenError(status >= 200 && status < 300 ? 'the answer is not JSON' : `HTTP ${status}`, status);
    }
    if (status < 200 || status >= 300) {
      const message = (parsed as { message?: unknown } | null)?.message;
      throw new AuthzenError(typeof message === 'string' ? `HTTP ${status}: ${message}` : `HTTP ${status}`, status);
    }
    return parsed;
  }
}

function isDecision(value: unknown): value is Decision {
  if (typeof value !== 'object' || value === null) return false;
  const { decision, context } = value as { decision?: unknown; context?: unknown };
  return typeof decision === 'boolean' && (context === undefined || (typeof context === 'object' && context !== null && !Array.isArray(context)));
}

function isTyped(item: unknown): boolean {
  const { type, id } = (item ?? {}) as { type?: unknown; id?: unknown };
  return typeof type === 'string' && typeof id === 'string';
}

function denied(code: string, message: string, status?: number): Decision {
  return { decision: false, context: { error: { code, message, ...(status !== undefined && { status }) } } };
}

function deniedBy(error: unknown): Decision {
  if (error instanceof AuthzenError) return denied(error.status === 0 ? 'unreachable' : 'http_error', error.message, error.status);
  return denied('client_error', (error as Error)?.message ?? String(error));
}
