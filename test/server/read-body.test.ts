// readBody over real node:http and node:http2 servers: the whole body as text however it is cut
// into chunks, a declared or streamed body past the limit refused with BodyTooLarge while the
// refusal can still be answered, and a request that closes before its end rejected (never left
// pending).
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLarge, readBody } from '../../src/server/read-body.js';

const LIMIT = 1000;
/** What each request's readBody settled with, by request path. */
const outcomes = new Map<string, Promise<string>>();

async function answer(request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): Promise<void> {
  const read = readBody(request, LIMIT);
  outcomes.set(request.url ?? '', read);
  try {
    const text = await read;
    response.writeHead(200, { 'content-type': 'text/plain' }).end(`read ${Buffer.byteLength(text)}: ${text.slice(0, 40)}`);
  } catch (error) {
    if (!response.headersSent && !response.writableEnded && error instanceof BodyTooLarge) response.writeHead(413).end(error.message);
  }
}

const http1 = createServer((request, response) => void answer(request, response));
const http2 = createHttp2Server((request, response) => void answer(request, response));
let port1 = 0;
let port2 = 0;
beforeAll(async () => {
  http1.listen(0, '127.0.0.1');
  http2.listen(0, '127.0.0.1');
  await Promise.all([once(http1, 'listening'), once(http2, 'listening')]);
  port1 = (http1.address() as AddressInfo).port;
  port2 = (http2.address() as AddressInfo).port;
});
afterAll(async () => {
  http1.closeAllConnections();
  await Promise.all([new Promise((resolve) => http1.close(resolve)), new Promise((resolve) => http2.close(resolve))]);
});

/** POSTs `chunks` over HTTP/1.1 (chunked unless `length` is given), one write each, pausing between them. */
async function post1(path: string, chunks: readonly (string | Buffer)[], length?: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ port: port1, host: '127.0.0.1', method: 'POST', path, headers: length === undefined ? {} : { 'content-length': String(length) } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    void (async () => {
      for (const chunk of chunks) {
        if (request.destroyed) return;
        request.write(chunk);
        await new Promise((next) => setTimeout(next, 5));
      }
      request.end();
    })();
  });
}

async function post2(path: string, chunks: readonly (string | Buffer)[]): Promise<{ status: number; text: string }> {
  const session = connect(`http://127.0.0.1:${port2}`);
  try {
    const stream = session.request({ ':method': 'POST', ':path': path });
    const status = new Promise<number>((resolve) => stream.once('response', (headers) => resolve(Number(headers[':status']))));
    let text = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    for (const chunk of chunks) {
      if (stream.destroyed || stream.closed) break;
      stream.write(chunk);
      await new Promise((next) => setTimeout(next, 5));
    }
    if (!stream.closed) stream.end();
    await once(stream, 'close');
    return { status: await status, text };
  } finally {
    session.close();
  }
}

describe('readBody', () => {
  it('reads a body in one chunk, in many, and none at all', async () => {
    expect(await post1('/one', ['{"a":1}'])).toEqual({ status: 200, text: 'read 7: {"a":1}' });
    // "é" is two bytes: cut between them, it is still one character.
    const e = Buffer.from('é');
    expect(await post1('/many', ['{"name":"', e.subarray(0, 1), e.subarray(1), '"}'])).toEqual({ status: 200, text: 'read 13: {"name":"é"}' });
    expect(await post1('/none', [])).toEqual({ status: 200, text: 'read 0: ' });
    expect(await post2('/h2-many', ['{"a":', '2}'])).toEqual({ status: 200, text: 'read 7: {"a":2}' });
  });

  it('reads a body of exactly the limit', async () => {
    expect((await post1('/exact', ['x'.repeat(LIMIT - 1), 'x'])).text).toBe(`read ${LIMIT}: ${'x'.repeat(40)}`);
  });

  it('refuses a declared Content-Length past the limit before reading', async () => {
    expect(await post1('/declared', ['x'.repeat(LIMIT + 1)], LIMIT + 1)).toEqual({ status: 413, text: `the body is ${LIMIT + 1} bytes; at most ${LIMIT} are accepted` });
  });

  it('refuses a streamed body once it grows past the limit, and the refusal is answered (HTTP/1.1 and HTTP/2)', async () => {
    const chunks = Array.from({ length: 8 }, () => 'x'.repeat(400));
    expect(await post1('/streamed', chunks)).toEqual({ status: 413, text: `the body exceeds ${LIMIT} bytes` });
    expect(await post2('/h2-streamed', chunks)).toEqual({ status: 413, text: `the body exceeds ${LIMIT} bytes` });
  });

  it('rejects when the client goes away before the body ends', async () => {
    const request = httpRequest({ port: port1, host: '127.0.0.1', method: 'POST', path: '/gone', headers: { 'content-length': '500' } });
    request.on('error', () => undefined);
    request.write('x'.repeat(100));
    while (!outcomes.has('/gone')) await new Promise((next) => setTimeout(next, 5));
    request.destroy();
    await expect(outcomes.get('/gone')).rejects.toBeInstanceOf(Error);
  });
});
