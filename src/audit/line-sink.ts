// Where audit lines go: a file (opened for appending) or stdout/stderr. Lines wait in memory and
// are written in batches by one asynchronous write at a time, so a request never waits for I/O
// and costs a few array operations; past a bound, lines are dropped and counted rather than
// letting memory grow. With `maxWriteBytes` (PIPE_BUF, for a pipe several processes share), every
// write(2) is whole lines of at most that many bytes, which a pipe never interleaves with another
// writer's.
import { closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LineSinkOptions {
  /** A file descriptor (1 or 2) or a file path, opened for appending (directories created). */
  readonly dest: number | string;
  /** Start a write once this many characters wait (the periodic flush() writes the rest). */
  readonly batchChars: number;
  /** At most this many characters wait; past it lines are dropped. */
  readonly maxBufferedChars: number;
  /** Largest write(2), in bytes, each of whole lines (a longer line is written alone). */
  readonly maxWriteBytes?: number;
  readonly onDrop?: () => void;
  /** A write failed for another reason than a full pipe: the lines of that write are lost. */
  readonly onError?: (error: Error) => void;
}

/** How long to wait before writing again to a full non-blocking pipe. */
const RETRY_MS = 10;

export class LineSink {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private pending: string[] = [];
  private pendingChars = 0;
  /** The write in flight, if any. */
  private writing: Promise<void> | undefined;
  /** Keep writing until nothing waits (flush() was called), not just until below batchChars. */
  private flushing = false;
  private closed = false;

  constructor(private readonly options: LineSinkOptions) {
    if (typeof options.dest === 'number') {
      this.fd = options.dest;
      this.ownsFd = false;
    } else {
      mkdirSync(dirname(options.dest), { recursive: true });
      this.fd = openSync(options.dest, 'a');
      this.ownsFd = true;
    }
  }

  /** Queues one line (with its newline). */
  write(line: string): void {
    if (this.closed) return;
    if (this.pendingChars + line.length > this.options.maxBufferedChars) {
      this.options.onDrop?.();
      return;
    }
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.options.batchChars) this.drain();
  }

  /** Writes everything waiting, asynchronously. */
  flush(): void {
    this.flushing = true;
    this.drain();
  }

  /** Writes everything waiting now, blocking (before the process exits). */
  flushSync(): void {
    while (this.pending.length > 0) {
      let chunk = this.take();
      while (chunk.length > 0) {
        try {
          chunk = chunk.subarray(writeSync(this.fd, chunk));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        }
      }
    }
  }

  /** Writes everything waiting, then closes a file it opened. */
  async close(): Promise<void> {
    this.flushing = true;
    this.drain();
    while (this.writing) await this.writing;
    this.closed = true;
    if (this.ownsFd) closeSync(this.fd);
  }

  private drain(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = this.writeChunk(this.take()).then(() => {
      this.writing = undefined;
      if (this.pending.length === 0) this.flushing = false;
      else if (this.flushing || this.pendingChars >= this.options.batchChars) this.drain();
    });
  }

  /** The next write's bytes: everything waiting, or as many whole lines as fit maxWriteBytes. */
  private take(): Buffer {
    const limit = this.options.maxWriteBytes;
    let lines: string[];
    if (limit === undefined) {
      lines = this.pending;
      this.pending = [];
    } else {
      const count = linesThatFit(this.pending, limit);
      lines = this.pending.splice(0, count);
    }
    const text = lines.length === 1 ? lines[0]! : lines.join('');
    this.pendingChars -= text.length;
    return Buffer.from(text, 'utf8');
  }

  private async writeChunk(chunk: Buffer): Promise<void> {
    while (chunk.length > 0) {
      try {
        chunk = chunk.subarray(await writeAsync(this.fd, chunk));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          continue;
        }
        this.options.onError?.(error as Error);
        return;
      }
    }
  }
}

/** How many of the first lines fit in `maxBytes` together (at least one). */
export function linesThatFit(lines: readonly string[], maxBytes: number): number {
  let bytes = 0;
  let count = 0;
  for (const line of lines) {
    bytes += Buffer.byteLength(line, 'utf8');
    if (count > 0 && bytes > maxBytes) break;
    count++;
  }
  return count;
}

function writeAsync(fd: number, chunk: Buffer): Promise<number> {
  return new Promise((resolve, reject) => write(fd, chunk, 0, chunk.length, null, (error, written) => (error ? reject(error) : resolve(written))));
}
