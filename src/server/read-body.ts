// A request body as text, refused past a size limit without reading it all: a declared
// Content-Length over the limit is refused before a byte is read, a body that grows past it as
// soon as it does. Read with 'data'/'end' listeners, not an async iterator: the iterator costs a
// promise per chunk and a stream-end watcher per request on paths that answer thousands per second.
// After a refusal the rest of the body is left to flow away unread, so the refusal can still be
// answered on the connection. Serves HTTP/1 and HTTP/2 (compatibility API) requests alike.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';

  constructor(
    readonly limit: number,
    /** The Content-Length that was refused; undefined when the body grew past the limit while read. */
    readonly declared: number | undefined,
  ) {
    super(declared === undefined ? `the body exceeds ${limit} bytes` : `the body is ${declared} bytes; at most ${limit} are accepted`);
  }
}

/** Rejects with BodyTooLarge past `limit` bytes, and with an error when the request closes or fails before its end. */
export function readBody(request: IncomingMessage | Http2ServerRequest, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge(limit, declared));
  if (request.destroyed) return Promise.reject(prematureClose());
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    const stop = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        reject(new BodyTooLarge(limit, undefined));
      } else if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    };
    const onEnd = () => {
      stop();
      // Most bodies arrive in one chunk: decoded without a copy.
      resolve(more ? Buffer.concat(more, size).toString('utf8') : (first?.toString('utf8') ?? ''));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      stop();
      reject(prematureClose());
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

function prematureClose(): Error {
  return Object.assign(new Error('the request closed before its body ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
