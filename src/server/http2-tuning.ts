// HTTP/2 flow-control windows for the grpc-js server. Envoy multiplexes many Checks over a few
// connections; with HTTP/2's default 64 KiB windows, Checks that carry a request body
// (with_request_body) wait for WINDOW_UPDATEs once about 64 KiB are in flight on a connection,
// which shows as a long tail. grpc-js 1.14 has no server option for the windows, so this reaches
// the two places it keeps them: the options it hands to http2.createServer, and the HTTP/2
// servers it created. test/server/grpc-tuning.test.ts proves both take effect on the wire (and
// fails if a grpc-js upgrade moves them).
import type { Server } from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session, Settings } from 'node:http2';

interface GrpcServerInternals {
  commonServerOptions?: { settings?: Settings };
  http2Servers?: Map<Http2Server, unknown>;
}

/** Before bindAsync: every stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE). False if grpc-js hides it. */
export function setStreamWindow(server: Server, bytes: number): boolean {
  const internals = server as unknown as GrpcServerInternals;
  if (typeof internals.commonServerOptions !== 'object') return false;
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: bytes };
  return true;
}

/** After bindAsync: every new connection's receive window. False if grpc-js hides its HTTP/2 servers. */
export function setConnectionWindow(server: Server, bytes: number): boolean {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  if (!(servers instanceof Map)) return false;
  for (const http2Server of servers.keys()) {
    http2Server.on('session', (session: ServerHttp2Session) => session.setLocalWindowSize(bytes));
  }
  return true;
}
