// The live stream (Server-Sent Events): it carries no decisions, only "the newest seq is now N",
// at most every NOTIFY_MS, so the page fetches what is new through the same filtered query as
// the first list. Bounded: a few streams at once, and a client that does not read its stream
// misses notifications instead of making keycard buffer them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DecisionRing } from './ring.js';

/** Notifications are coalesced to at most one per this interval per stream. */
const NOTIFY_MS = 200;
/** A comment line this often keeps proxies and port-forwards from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/** Streams open at once; more get 503. A person needs one per open page. */
export const MAX_STREAMS = 16;

type Headers = Readonly<Record<string, string>>;

export function liveStream(ring: DecisionRing, securityHeaders: Headers): (request: IncomingMessage, response: ServerResponse) => void {
  let open = 0;
  return (_request, response) => {
    if (open >= MAX_STREAMS) {
      response.writeHead(503, { ...securityHeaders, 'content-type': 'application/json; charset=utf-8', 'retry-after': '10' });
      response.end(`${JSON.stringify({ error: `${MAX_STREAMS} live streams are open already` })}\n`);
      return;
    }
    open++;
    response.writeHead(200, { ...securityHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' });
    let blocked = false;
    const write = (text: string) => {
      if (blocked) return;
      blocked = !response.write(text);
    };
    response.on('drain', () => (blocked = false));
    write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ latestSeq: ring.latestSeq })}\n\n`);

    let timer: NodeJS.Timeout | undefined;
    const notify = () => {
      timer = undefined;
      write(`event: decisions\ndata: ${JSON.stringify({ latestSeq: ring.latestSeq })}\n\n`);
    };
    const unsubscribe = ring.subscribe(() => {
      timer ??= setTimeout(notify, NOTIFY_MS);
    });
    const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearTimeout(timer);
      clearInterval(keepalive);
      open--;
    };
    response.once('close', close);
  };
}
