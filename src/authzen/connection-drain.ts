// A graceful stop for the AuthZEN listener's connections. The listener hands its sockets to an
// HTTP/1 server and an HTTP/2 server that never listen themselves, so Node's own bookkeeping
// (closeIdleConnections) does not know them: this does. On stop, a connection that is answering
// finishes its answers first — an HTTP/1 connection then closes (its in-flight answers go out with
// `Connection: close`), an HTTP/2 session gets GOAWAY and closes after its open streams — and an
// idle or not yet classified connection closes at once. force() cuts whatever is left.
import type { ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

export class ConnectionDrain {
  private stopping = false;
  /** Accepted, first bytes not seen yet. */
  private readonly unclassified = new Set<Socket>();
  /** HTTP/1 connections and the answers each is writing. */
  private readonly http1 = new Map<Socket, Set<ServerResponse>>();
  private readonly sessions = new Set<Http2Session>();

  accepted(socket: Socket): void {
    if (this.stopping) return void socket.destroy();
    this.unclassified.add(socket);
    socket.once('close', () => {
      this.unclassified.delete(socket);
      this.http1.delete(socket);
    });
  }

  /** The connection speaks HTTP/1. */
  http1Connection(socket: Socket): void {
    this.unclassified.delete(socket);
    if (!socket.destroyed) this.http1.set(socket, new Set());
  }

  /** The connection speaks HTTP/2: its session. */
  http2Session(session: Http2Session, socket: Socket): void {
    this.unclassified.delete(socket);
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    if (this.stopping) session.close();
  }

  /** An HTTP/1 request arrived on `socket`: its answer is in flight until the response closes. */
  http1Request(socket: Socket, response: ServerResponse): void {
    const answering = this.http1.get(socket);
    if (!answering) return;
    answering.add(response);
    if (this.stopping) response.shouldKeepAlive = false;
    response.once('close', () => {
      answering.delete(response);
      if (this.stopping && answering.size === 0) socket.end();
    });
  }

  /** Closes idle connections now and the others once their answers are out. */
  stop(): void {
    this.stopping = true;
    for (const socket of this.unclassified) socket.destroy();
    for (const [socket, answering] of this.http1) {
      if (answering.size === 0) socket.end();
      // Answers not yet begun say Connection: close; Node ends the socket after them.
      else for (const response of answering) if (!response.headersSent) response.shouldKeepAlive = false;
    }
    for (const session of this.sessions) session.close();
  }

  /** The grace period is over: cuts every connection left. */
  force(): void {
    for (const socket of this.unclassified) socket.destroy();
    for (const socket of this.http1.keys()) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }
}
