// A local JWKS server (node:http on a free loopback port) with one route per misbehaviour:
// slow, trickling, redirecting, garbage, huge, keys keycard must refuse. It counts requests per
// route, so a case can prove keycard did (or never did) fetch something.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface JwksServer {
  /** `http://127.0.0.1:PORT` + path. */
  url(path: string): string;
  /** Requests received on the path (query included) so far. */
  hits(path: string): number;
  /** Requests received on any path that starts with `prefix`. */
  hitsUnder(prefix: string): number;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

/** Serves `routes`; any other path is counted and answered 404. */
export async function startJwksServer(routes: Readonly<Record<string, Route>>): Promise<JwksServer> {
  const counts = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    open.add(response);
    response.on('close', () => open.delete(response));
    // A client that gives up mid-body (keycard's size cap, its timeout) must not crash the server.
    response.on('error', () => undefined);
    const route = routes[path.split('?')[0]!];
    if (route) route(request, response);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hits: (path) => counts.get(path) ?? 0,
    hitsUnder: (prefix) => [...counts].filter(([path]) => path.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0),
    async close() {
      for (const response of open) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(value: unknown): Route {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
}

export function text(status: number, body: string, headers: Record<string, string> = {}): Route {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  };
}

/** Never answers: the request stays open until the server closes. */
export const silent: Route = () => undefined;

/** Sends the status line and headers at once, then the body one byte every `intervalMs`, for ever. */
export function trickle(intervalMs: number): Route {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"keys":[');
    const timer = setInterval(() => response.write(' '), intervalMs);
    response.on('close', () => clearInterval(timer));
  };
}

/**
 * A JWKS-looking document of `bytes` bytes, streamed as long as the client reads it; with a
 * Content-Length header or chunked. Padding is whitespace inside the keys array, so it would
 * parse if read to the end.
 */
export function huge(bytes: number, withLength: boolean, key: JWK): Route {
  const head = `{"keys":[${JSON.stringify(key)}`;
  const tail = ']}';
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', ...(withLength && { 'content-length': String(bytes) }) });
    let left = bytes - head.length - tail.length;
    response.write(head);
    const chunk = ' '.repeat(64 * 1024);
    const pump = () => {
      while (left > 0 && !response.destroyed) {
        const part = left >= chunk.length ? chunk : chunk.slice(0, left);
        left -= part.length;
        if (!response.write(part)) return void response.once('drain', pump);
      }
      if (!response.destroyed) response.end(tail);
    };
    pump();
  };
}

export function redirect(location: string, status = 302): Route {
  return (_request, response) => {
    response.writeHead(status, { location }).end();
  };
}

export { MIB };
