// One cleartext port for HTTP/1.1 (keep-alive) and HTTP/2 with prior knowledge (h2c). Node's
// http2 server takes `allowHTTP1` only with TLS (ALPN chooses there), so a TCP server looks at
// each connection's first bytes: the HTTP/2 connection preface starts "PRI", which no HTTP/1
// method is; the connection then goes to the http2 server, otherwise to the http server.
// An HTTP/1 socket is handed over as is (the bytes read are put back). An HTTP/2 socket goes
// through a small stream wrapper: the http2 session reads the socket's handle directly and would
// miss bytes put back in JavaScript.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ListenAddress } from '../config/listen-address.js';
import { listenOn } from '../server/listen.js';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
export type RequestHandler = (request: AnyRequest, response: AnyResponse, peerAddress: string | undefined) => void;

/** A connection that sends nothing for this long is closed before it is classified. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;
const PREFACE_START = Buffer.from('PRI', 'latin1');

export interface ListenerOptions {
  readonly listen: ListenAddress;
  readonly maxHeaderBytes: number;
  readonly handler: RequestHandler;
}

export class DualProtocolListener {
  private readonly tcp: NetServer;
  private readonly http1: HttpServer;
  private readonly http2: Http2Server;
  private readonly sockets = new Set<Socket>();
  /** The wrapped stream has no address of its own: the peer's, per HTTP/2 session. */
  private readonly sessionPeers = new WeakMap<Http2Session, string | undefined>();
  private pendingPeer: string | undefined;

  constructor(private readonly options: ListenerOptions) {
    this.http1 = createHttpServer({ maxHeaderSize: options.maxHeaderBytes, requestTimeout: 30_000 }, (request, response) =>
      options.handler(request, response, request.socket.remoteAddress),
    );
    this.http1.keepAliveTimeout = 60_000;
    this.http2 = createHttp2Server({ maxSessionMemory: 10, settings: { maxHeaderListSize: options.maxHeaderBytes } }, (request, response) =>
      options.handler(request, response, this.sessionPeers.get(request.stream.session!)),
    );
    // Emitted synchronously while the connection is handed over (see classify).
    this.http2.on('session', (session) => this.sessionPeers.set(session, this.pendingPeer));
    this.tcp = createNetServer((socket) => this.classify(socket));
  }

  async start(): Promise<number> {
    return listenOn(this.tcp, this.options.listen);
  }

  /** Stops accepting, lets in-flight requests finish, then closes idle connections. */
  async stop(): Promise<void> {
    if (!this.tcp.listening) return;
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    this.http1.closeIdleConnections();
    this.http1.close();
    this.http2.close();
    // Sockets still open (h2 sessions, unclassified connections) end once their work is done.
    for (const socket of this.sockets) socket.end();
    await closed;
  }

  private classify(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
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
    socket.unshift(received);
    this.http1.emit('connection', socket);
    socket.resume();
  }

  private toHttp2(socket: Socket, received: Buffer): void {
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
    this.pendingPeer = socket.remoteAddress;
    try {
      this.http2.emit('connection', stream);
    } finally {
      this.pendingPeer = undefined;
    }
    socket.resume();
  }
}
