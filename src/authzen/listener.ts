// One cleartext port for HTTP/1.1 (keep-alive) and HTTP/2 with prior knowledge (h2c). Node's
// http2 server takes `allowHTTP1` only with TLS (ALPN chooses there), so a TCP server looks at
// each connection's first bytes: the HTTP/2 connection preface starts "PRI", which no HTTP/1
// method is; the connection then goes to the http2 server, otherwise to the http server.
// An HTTP/1 socket is handed over as is (the bytes read are put back). An HTTP/2 socket goes
// through a small stream wrapper: the http2 session reads the socket's handle directly and would
// miss bytes put back in JavaScript. Neither inner server listens, so stopping is done here
// (connection-drain.ts): in-flight answers finish, idle connections close.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ListenAddress } from '../config/listen-address.js';
import { listenOn } from '../server/listen.js';
import { ConnectionDrain } from './connection-drain.js';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
export type RequestHandler = (request: AnyRequest, response: AnyResponse, peerAddress: string | undefined) => void;

/** A connection that sends nothing for this long is closed before it is classified. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;
const PREFACE_START = Buffer.from('PRI', 'latin1');

/** An HTTP/1 request must have sent its headers by then, and the whole request by REQUEST_TIMEOUT_MS (else 408). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** An h2c session without any frame for this long is closed (GOAWAY), like an idle HTTP/1 keep-alive connection. */
const SESSION_IDLE_MS = 60_000;

export interface ListenerOptions {
  readonly listen: ListenAddress;
  readonly maxHeaderBytes: number;
  readonly handler: RequestHandler;
  /** Tests shorten the HTTP/1 header and request deadlines and the h2c idle timeout. */
  readonly timeouts?: { readonly headersMs: number; readonly requestMs: number; readonly checkEveryMs: number; readonly sessionIdleMs: number };
}

export class DualProtocolListener {
  private readonly tcp: NetServer;
  private readonly http1: HttpServer;
  private readonly http2: Http2Server;
  private readonly drain = new ConnectionDrain();
  /** The wrapped stream has no address of its own: the peer's, per HTTP/2 session. */
  private readonly sessionPeers = new WeakMap<Http2Session, string | undefined>();
  /** The socket being handed to the http2 server (its 'session' event comes synchronously). */
  private handingOver: Socket | undefined;

  constructor(private readonly options: ListenerOptions) {
    const timeouts = options.timeouts ?? { headersMs: HEADERS_TIMEOUT_MS, requestMs: REQUEST_TIMEOUT_MS, checkEveryMs: 1_000, sessionIdleMs: SESSION_IDLE_MS };
    this.http1 = createHttpServer(
      { maxHeaderSize: options.maxHeaderBytes, headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkEveryMs },
      (request, response) => {
        this.drain.http1Request(request.socket, response);
        options.handler(request, response, request.socket.remoteAddress);
      },
    );
    this.http1.keepAliveTimeout = 60_000;
    // The http server enforces headersTimeout and requestTimeout from a timer it starts when it
    // begins listening. This one never listens (the TCP server hands it sockets), so it is told it
    // does: otherwise a client trickling its headers would hold a connection forever.
    this.http1.emit('listening');
    this.http2 = createHttp2Server({ maxSessionMemory: 10, settings: { maxHeaderListSize: options.maxHeaderBytes } }, (request, response) =>
      options.handler(request, response, this.sessionPeers.get(request.stream.session!)),
    );
    // Emitted synchronously while the connection is handed over (see toHttp2).
    this.http2.on('session', (session) => {
      const socket = this.handingOver;
      if (socket === undefined) return;
      this.sessionPeers.set(session, socket.remoteAddress);
      this.drain.http2Session(session, socket);
      // The http2 server would time the socket out itself, but it was handed a stream wrapper:
      // time the session instead, so an idle or stalled h2c connection does not stay forever.
      session.setTimeout(timeouts.sessionIdleMs, () => session.close());
    });
    this.tcp = createNetServer((socket) => this.classify(socket));
  }

  async start(): Promise<number> {
    return listenOn(this.tcp, this.options.listen);
  }

  /**
   * Stops accepting and closes idle connections; requests in flight are answered, then their
   * connections close. After `graceMs` whatever is still open is cut.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.tcp.listening) return;
    // The callback comes once every connection the listener accepted has closed.
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    this.drain.stop();
    const timer = setTimeout(() => this.drain.force(), graceMs);
    await closed;
    clearTimeout(timer);
    // Stops the header/request deadline timer started in the constructor (it "listens" nowhere).
    this.http1.close(() => undefined);
  }

  private classify(socket: Socket): void {
    this.drain.accepted(socket);
    if (socket.destroyed) return;
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, PREFACE_START.length);
      const isHttp2 = received.subarray(0, compared).equals(PREFACE_START.subarray(0, compared));
      if (isHttp2 && received.length < PREFACE_START.length) return; // wait for more bytes
      socket.off('data', onData);
      socket.pause();
      socket.setTimeout(0);
      if (isHttp2) this.toHttp2(socket, received);
      else this.toHttp1(socket, received);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }

  private toHttp1(socket: Socket, received: Buffer): void {
    this.drain.http1Connection(socket);
    socket.unshift(received);
    this.http1.emit('connection', socket);
    socket.resume();
  }

  private toHttp2(socket: Socket, received: Buffer): void {
    // node:http2 turns Nagle's algorithm off only on a socket it is given itself; behind the
    // stream below every answer would wait for the client's delayed ACK (about 40 ms).
    socket.setNoDelay(true);
    const stream = new Duplex({
      read: () => void socket.resume(),
      write: (chunk: Buffer, encoding, callback) => void socket.write(chunk, encoding, callback),
      final: (callback) => {
        socket.end();
        callback();
      },
      destroy: (error, callback) => {
        socket.destroy(error ?? undefined);
        callback(error);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      if (!stream.push(chunk)) socket.pause();
    });
    socket.on('end', () => stream.push(null));
    socket.on('close', () => stream.destroy());
    stream.push(received);
    this.handingOver = socket;
    try {
      this.http2.emit('connection', stream);
    } finally {
      this.handingOver = undefined;
    }
    socket.resume();
  }
}
