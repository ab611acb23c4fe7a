// The AuthZEN port's HTTP/1 side enforces header and request deadlines, although its http server
// never listens itself: a client that trickles its headers (slowloris) is answered 408 and cut;
// an h2c session that stays idle is closed.
import { connect as connectHttp2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DualProtocolListener } from '../../src/authzen/listener.js';

let listener: DualProtocolListener | undefined;
afterEach(async () => {
  await listener?.stop(1_000);
  listener = undefined;
});

async function start(): Promise<number> {
  listener = new DualProtocolListener({
    listen: { host: '127.0.0.1', port: 0 },
    maxHeaderBytes: 16 * 1024,
    handler: (_request, response) => response.end('ok'),
    timeouts: { headersMs: 500, requestMs: 1_000, checkEveryMs: 100, sessionIdleMs: 500 },
  });
  return listener.start();
}

/** What the server sent, once it closed the connection (or undefined if still open after `waitMs`). */
function closedWith(socket: Socket, waitMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    setTimeout(() => resolve(undefined), waitMs);
  });
}

describe('the AuthZEN listener over HTTP/1.1', () => {
  it('answers 408 and closes a connection whose headers never finish', async () => {
    const socket = connect(await start(), '127.0.0.1');
    socket.write('POST /access/v1/evaluation HTTP/1.1\r\nHost: pdp\r\n');
    const answer = await closedWith(socket, 5_000);
    socket.destroy();
    expect(answer, 'the connection was still open after 5 s').toBeDefined();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('still serves a request that arrives in time', async () => {
    const port = await start();
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('ok');
  });
});

describe('the AuthZEN listener over h2c', () => {
  it('closes a session that stays idle', async () => {
    const session = connectHttp2(`http://127.0.0.1:${await start()}`);
    const closed = new Promise<boolean>((resolve) => {
      session.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 5_000);
    });
    session.on('error', () => undefined);
    expect(await closed, 'the idle session was still open after 5 s').toBe(true);
    session.destroy();
  });
});
