// The explorer's HTTP routes under /explorer on the admin port: the page and its script and style
// (same-origin files under a strict Content-Security-Policy), the recent decisions as JSON with
// filters, one decision's explanation, a live stream that says when new decisions arrived, and the
// "try a request" endpoint. Every route, the page included, first checks who is asking (access.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { BodyTooLarge, readBody } from '../server/read-body.js';
import { explorerAccess, type AccessOptions } from './access.js';
import { APP_CSS } from './assets/app-css.js';
import { APP_JS } from './assets/app-js.js';
import { FAVICON_SVG, PAGE_HTML } from './assets/page-html.js';
import { explainRecord } from './explain-record.js';
import type { DecisionRing, RecordQuery, RingEntry } from './ring.js';
import { liveStream } from './live-stream.js';
import { MAX_TRY_BODY_BYTES, tryRequestSchema, type TryAnswer, type TryInput } from './try-request.js';

export const EXPLORER_PATH = '/explorer';

export interface ExplorerRoutesOptions {
  readonly ring: DecisionRing;
  readonly access: AccessOptions;
  /** Settings `explorer.maskSubjects`, shown on the page. */
  readonly masked: boolean;
  /** Decides and explains a hypothetical request (here, or in a cluster worker). */
  readonly tryRequest: (input: TryInput) => Promise<TryAnswer>;
}

/** Whether the admin server should hand this path to the explorer. */
export function isExplorerPath(path: string): boolean {
  return path === EXPLORER_PATH || path.startsWith(`${EXPLORER_PATH}/`);
}

const SECURITY_HEADERS = {
  // Nothing from anywhere else, no inline script or style: the page's code is /explorer/app.js.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

const MAX_FILTER_CHARS = 256;
const DECISIONS = ['allow', 'deny', 'dry_run_deny'];

export class ExplorerRoutes {
  private readonly stream: ReturnType<typeof liveStream>;

  constructor(private readonly options: ExplorerRoutesOptions) {
    this.stream = liveStream(options.ring, SECURITY_HEADERS);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const access = explorerAccess({ remoteAddress: request.socket.remoteAddress, headers: request.headers }, this.options.access);
    if (!access.allowed) {
      return send(response, access.status, { error: access.message }, access.challenge ? { 'www-authenticate': access.challenge } : {});
    }
    const url = new URL(request.url ?? '/', 'http://explorer.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    if (path === `${EXPLORER_PATH}/api/try`) {
      if (method !== 'POST') return send(response, 405, { error: 'use POST' }, { allow: 'POST' });
      return this.try(request, response);
    }
    if (method !== 'GET' && method !== 'HEAD') return send(response, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
    switch (path) {
      case EXPLORER_PATH:
        return sendText(response, 200, 'text/html; charset=utf-8', PAGE_HTML);
      case `${EXPLORER_PATH}/app.js`:
        return sendText(response, 200, 'text/javascript; charset=utf-8', APP_JS);
      case `${EXPLORER_PATH}/app.css`:
        return sendText(response, 200, 'text/css; charset=utf-8', APP_CSS);
      case `${EXPLORER_PATH}/favicon.svg`:
        return sendText(response, 200, 'image/svg+xml', FAVICON_SVG);
      case `${EXPLORER_PATH}/api/decisions`:
        return this.list(url.searchParams, response);
      case `${EXPLORER_PATH}/api/events`:
        // A HEAD would hold the stream open with nothing to read.
        if (method !== 'GET') return send(response, 405, { error: 'use GET' }, { allow: 'GET' });
        return this.stream(request, response);
    }
    const one = /^\/explorer\/api\/decisions\/([0-9A-Za-z-]{1,64})$/.exec(path);
    if (one) return this.explain(one[1]!, response);
    return send(response, 404, { error: 'not found' });
  }

  private list(params: URLSearchParams, response: ServerResponse): void {
    const query = parseQuery(params, this.options.ring.capacity);
    if (typeof query === 'string') return send(response, 400, { error: query });
    const { ring } = this.options;
    send(response, 200, {
      capacity: ring.capacity,
      size: ring.size,
      masked: this.options.masked,
      latestSeq: ring.latestSeq,
      decisions: ring.list(query).map(flatten),
    });
  }

  private explain(id: string, response: ServerResponse): void {
    const entry = this.options.ring.get(id);
    if (!entry) return send(response, 404, { error: `decision ${id} is not among the recent decisions` });
    send(response, 200, { ...flatten(entry), explanation: explainRecord(entry.record) });
  }

  private async try(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A cross-site form or script cannot send JSON without a CORS preflight, which this never grants;
    // Origin and Sec-Fetch-Site catch what is left.
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) return send(response, 415, { error: 'send the request as application/json' });
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host}` && origin !== `https://${request.headers.host}`) {
      return send(response, 403, { error: 'cross-origin requests are refused' });
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return send(response, 403, { error: 'cross-site requests are refused' });
    let body: string;
    try {
      body = await readBody(request, MAX_TRY_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      return send(response, 413, { error: `the request body exceeds ${MAX_TRY_BODY_BYTES} bytes` }, { connection: 'close' });
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return send(response, 400, { error: 'the request body is not JSON' });
    }
    const parsed = tryRequestSchema.safeParse(json);
    if (!parsed.success) return send(response, 400, { error: describeIssues(parsed.error) });
    const answer = await this.options.tryRequest(parsed.data);
    if (!answer.ok) return send(response, answer.status, { error: answer.error });
    send(response, 200, answer.result);
  }
}

function flatten(entry: RingEntry): Record<string, unknown> {
  return { seq: entry.seq, ...entry.record };
}

function parseQuery(params: URLSearchParams, capacity: number): RecordQuery | string {
  const text = (name: string) => {
    const value = params.get(name)?.trim();
    return value ? value.slice(0, MAX_FILTER_CHARS) : undefined;
  };
  const count = (name: string, min: number, max: number): number | undefined | string => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    const n = Number(value);
    return Number.isInteger(n) && n >= min && n <= max ? n : `${name}: "${value.slice(0, 32)}" is not a whole number from ${min} to ${max}`;
  };
  const decision = text('decision');
  if (decision !== undefined && !DECISIONS.includes(decision)) return `decision: "${decision}" is not one of ${DECISIONS.join(', ')}`;
  const after = count('after', 0, Number.MAX_SAFE_INTEGER);
  const limit = count('limit', 1, capacity);
  if (typeof after === 'string') return after;
  if (typeof limit === 'string') return limit;
  return {
    service: text('service'),
    decision,
    reason: text('reason'),
    subject: text('subject'),
    path: text('path'),
    ...(after !== undefined && { after }),
    ...(limit !== undefined && { limit }),
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(response, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, headers);
}

function sendText(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, ...headers });
  response.end(body);
}
