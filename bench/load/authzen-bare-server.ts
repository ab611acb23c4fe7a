// The AuthZEN baseline: Node's own servers, a handler that reads the body, parses the JSON and
// answers `{"decision":true}` (a batch: one such decision per item), so the difference to keycard
// is keycard's own work (the caller's authentication, the request shapes, the policy and the
// state reads, metrics, audit) and its listener's. node:http with keep-alive on one port and
// node:http2 (h2c, prior knowledge) on another: keycard serves both on one port, which the load
// does not need, and a bare server sharing keycard's listener would hide what that costs.
// Usage: node authzen-bare-server.js; prints {"port":N,"h2cPort":M} once listening.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2cServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** keycard's default `limits.maxHeaderBytes`, and its listener's keep-alive timeout. */
const MAX_HEADER_BYTES = 64 * 1024;
const KEEP_ALIVE_MS = 60_000;
const SINGLE = JSON.stringify({ decision: true });
/** Batch answers by item count, serialized once each. */
const batches = new Map<number, string>();

function batchAnswer(count: number): string {
  let answer = batches.get(count);
  if (answer === undefined) {
    answer = JSON.stringify({ evaluations: Array.from({ length: count }, () => ({ decision: true })) });
    batches.set(count, answer);
  }
  return answer;
}

async function answer(request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  let status = 200;
  let body: string;
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { evaluations?: unknown };
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/access/v1/evaluation') body = SINGLE;
    else if (path === '/access/v1/evaluations') body = Array.isArray(parsed.evaluations) && parsed.evaluations.length > 0 ? batchAnswer(parsed.evaluations.length) : SINGLE;
    else [status, body] = [404, '{"error":"not_found"}'];
  } catch {
    [status, body] = [400, '{"error":"bad_request"}'];
  }
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(body);
}

const handle = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => void answer(request, response).catch(() => request.destroy());
const http1 = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handle);
http1.keepAliveTimeout = KEEP_ALIVE_MS;
const h2c = createH2cServer({ settings: { maxHeaderListSize: MAX_HEADER_BYTES } }, handle);
http1.listen(0, '127.0.0.1');
h2c.listen(0, '127.0.0.1');
await Promise.all([once(http1, 'listening'), once(h2c, 'listening')]);
console.log(JSON.stringify({ port: (http1.address() as AddressInfo).port, h2cPort: (h2c.address() as AddressInfo).port }));
const stop = () => {
  http1.closeAllConnections();
  h2c.close();
  http1.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
