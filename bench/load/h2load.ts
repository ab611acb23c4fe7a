// Runs h2load against an endpoint with one pre-encoded request body (a gRPC frame over h2c, or
// JSON over HTTP/1.1 keep-alive or h2c), and turns its per-request log into latency percentiles.
// h2load only sees the HTTP status: the gRPC status and the decision are checked separately (see
// run.ts and authzen-verify.ts).
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { pinned } from './cpu.js';

export interface Load {
  /** Connections. */
  readonly connections: number;
  /** Concurrent streams per connection. */
  readonly streams: number;
  /** The Check carries an 8 KiB request body (with_request_body). */
  readonly body?: boolean;
}

export const loadName = (load: Load) => `${load.connections}×${load.streams}${load.body ? ', 8 KiB body' : ''}`;

export interface H2loadRun {
  readonly url: string;
  /** The body h2load POSTs on every request: a gRPC frame (5-byte prefix + serialized CheckRequest) or JSON. */
  readonly dataFile: string;
  /** Request headers; gRPC's unless given. */
  readonly headers?: readonly string[];
  /** HTTP/1.1 on kept-alive connections instead of h2c. h2load sends one request at a time per connection then (no pipelining with a body). */
  readonly http1?: boolean;
  readonly load: Load;
  /** Either a number of requests (exact, so the server's counters can be compared) or a duration. */
  readonly requests?: number;
  readonly durationSeconds?: number;
  readonly cpus: readonly number[];
  /** Per-request log (start µs, status, duration µs); percentiles are computed from it. */
  readonly logFile?: string;
}

export interface H2loadResult {
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly non2xx: number;
  readonly elapsedSeconds: number;
  readonly rps: number;
  /** Request durations in microseconds, sorted, when a log file was asked for. */
  readonly latenciesUs?: Float64Array;
}

const GRPC_HEADERS = ['content-type: application/grpc', 'te: trailers'];

export function runH2load(run: H2loadRun): Promise<H2loadResult> {
  if (run.http1 && run.load.streams !== 1) throw new Error(`HTTP/1.1 carries one request at a time per connection: ${loadName(run.load)} asks for ${run.load.streams}`);
  const args = [
    run.http1 ? '--h1' : '--no-tls-proto=h2c',
    '-t', '1',
    '-c', String(run.load.connections),
    '-m', String(run.load.streams),
    '-d', run.dataFile,
    ...(run.headers ?? GRPC_HEADERS).flatMap((header) => ['-H', header]),
    ...(run.requests !== undefined ? ['-n', String(run.requests)] : ['-D', `${run.durationSeconds ?? 1}`]),
    ...(run.logFile ? ['--log-file', run.logFile] : []),
    run.url,
  ];
  const [command, pinnedArgs] = pinned(run.cpus, 'h2load', args);
  return new Promise((resolve, reject) => {
    execFile(command, pinnedArgs, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`h2load failed: ${error.message}\n${stdout}\n${stderr}`));
      try {
        const result = parseSummary(stdout);
        resolve(run.logFile ? { ...result, latenciesUs: readLatencies(run.logFile) } : result);
      } catch (parseError) {
        reject(new Error(`${(parseError as Error).message}\n${stdout}`));
      } finally {
        if (run.logFile) rmSync(run.logFile, { force: true });
      }
    });
  });
}

function parseSummary(stdout: string): Omit<H2loadResult, 'latenciesUs'> {
  const finished = /finished in ([\d.]+)(ms|s|us), ([\d.]+) req\/s/.exec(stdout);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (!finished || !requests || !codes) throw new Error('unexpected h2load output');
  const unit = { us: 1e-6, ms: 1e-3, s: 1 }[finished[2] as 'us' | 'ms' | 's'];
  const done = Number(requests[3]);
  return {
    requests: done,
    succeeded: Number(requests[4]),
    failed: Number(requests[5]) + Number(requests[6]) + Number(requests[7]),
    non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
    elapsedSeconds: Number(finished[1]) * unit,
    rps: Number(finished[3]),
  };
}

function readLatencies(file: string): Float64Array {
  const lines = readFileSync(file, 'utf8').split('\n');
  const values = new Float64Array(lines.length);
  let count = 0;
  for (const line of lines) {
    const tab = line.lastIndexOf('\t');
    if (tab > 0) values[count++] = Number(line.slice(tab + 1));
  }
  return values.subarray(0, count).sort();
}

/** The q-quantile (0..1) of sorted values: nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
