// One RFC 7662 token introspection call: POST token=…&token_type_hint=access_token with HTTP
// Basic client authentication, answered by a JSON object with a boolean `active`. Every way
// the call can fail is an IntrospectionError of a few kinds (the metric's `result` label); the
// token and the client secret never appear in a message.

/** Where and how to ask: the endpoint and its client authentication. */
export interface IntrospectionTarget {
  readonly url: string;
  /** `Basic …` of the client id and secret (RFC 6749 §2.3.1). */
  readonly authorization: string;
  readonly timeoutMs: number;
}

export type IntrospectionFailure = 'timeout' | 'unreachable' | 'http_error' | 'invalid_response';

export class IntrospectionError extends Error {
  constructor(
    readonly failure: IntrospectionFailure,
    message: string,
  ) {
    super(message);
    this.name = 'IntrospectionError';
  }
}

/** The introspection response: a JSON object whose `active` is a boolean. */
export type IntrospectionResponse = Readonly<Record<string, unknown>> & { readonly active: boolean };

/** The largest response read; a larger one is refused without reading the rest. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ":" and base64-encoded. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export async function introspect(endpoint: IntrospectionTarget, token: string): Promise<IntrospectionResponse> {
  let response: Response;
  try {
    response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { authorization: endpoint.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      // A redirect would send the token (and the client credentials) somewhere not configured.
      redirect: 'error',
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
  } catch (error) {
    throw transportError(error, endpoint.timeoutMs);
  }
  if (response.status !== 200) {
    await discard(response);
    throw new IntrospectionError('http_error', `HTTP ${response.status}`);
  }
  const text = await readBody(response, endpoint.timeoutMs);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new IntrospectionError('invalid_response', 'the response is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new IntrospectionError('invalid_response', 'the response is not a JSON object');
  const active = (body as Record<string, unknown>).active;
  if (typeof active !== 'boolean') throw new IntrospectionError('invalid_response', '"active" is missing or not a boolean');
  return body as IntrospectionResponse;
}

/** The body as UTF-8, refusing more than MAX_RESPONSE_BYTES as soon as that is clear. */
async function readBody(response: Response, timeoutMs: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_RESPONSE_BYTES) {
    await discard(response);
    throw new IntrospectionError('invalid_response', `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > MAX_RESPONSE_BYTES) {
          await reader.cancel().catch(() => undefined);
          throw new IntrospectionError('invalid_response', `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
        }
        chunks.push(value);
      }
    }
  } catch (error) {
    if (error instanceof IntrospectionError) throw error;
    throw transportError(error, timeoutMs);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new IntrospectionError('invalid_response', 'the response is not UTF-8');
  }
}

/** Releases the connection without reading an unwanted body. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function transportError(error: unknown, timeoutMs: number): IntrospectionError {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new IntrospectionError('timeout', `no answer within ${timeoutMs} ms`);
  }
  // fetch's TypeError says "fetch failed"; the reason (ECONNREFUSED, a redirect, TLS) is its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const reason = cause ? `${typeof code === 'string' ? `${code}: ` : ''}${cause.message}` : error instanceof Error ? error.message : String(error);
  return new IntrospectionError('unreachable', reason);
}
