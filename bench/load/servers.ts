// Starts the servers under test as pinned processes: the bare Check handler, the bare AuthZEN
// handler and `keycard serve`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { RedisServer } from '../../test/helpers/redis-server.js';
import { pinned } from './cpu.js';
import { BARE_AUTHZEN_SERVER, BARE_SERVER, KEYCARD_CLI } from './paths.js';

export interface ServerUnderTest {
  readonly pid: number;
  readonly grpcAddress: string;
  /** The AuthZEN listener's HOST:PORT (keycard with `authzen:`: HTTP/1.1 and h2c; the bare AuthZEN handler: HTTP/1.1). */
  readonly authzenAddress?: string;
  /** Where AuthZEN takes h2c, when not at authzenAddress (the bare AuthZEN handler). */
  readonly authzenH2cAddress?: string;
  /** keycard only: the admin port's base URL (metrics). */
  readonly adminUrl?: string;
  /** Everything the process wrote to stderr. */
  stderr(): string;
  stop(): Promise<number | null>;
}

interface ListeningLine {
  readonly port?: number;
  readonly grpcPort?: number;
  readonly adminPort?: number;
  readonly authzenPort?: number;
  readonly h2cPort?: number;
}

async function launch(cpus: readonly number[], args: readonly string[], isReady: (line: string) => boolean): Promise<{ child: ChildProcess; line: ListeningLine; stderr: () => string }> {
  const [command, pinnedArgs] = pinned(cpus, process.execPath, args);
  const child = spawn(command, pinnedArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const line = await new Promise<ListeningLine>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in time:\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      if (!isReady(text)) return;
      clearTimeout(timer);
      resolve(JSON.parse(text) as ListeningLine);
    });
  });
  return { child, line, stderr: () => stderr };
}

function stopper(child: ChildProcess): () => Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
}

export async function startBare(cpus: readonly number[], options: 'keycard' | 'defaults'): Promise<ServerUnderTest> {
  const { child, line, stderr } = await launch(cpus, [BARE_SERVER, '--options', options], (text) => text.startsWith('{"port"'));
  return { pid: child.pid!, grpcAddress: `127.0.0.1:${line.port}`, stderr, stop: stopper(child) };
}

/** The bare AuthZEN handler: it has no gRPC port (grpcAddress is its HTTP/1.1 address too). */
export async function startBareAuthzen(cpus: readonly number[]): Promise<ServerUnderTest> {
  const { child, line, stderr } = await launch(cpus, [BARE_AUTHZEN_SERVER], (text) => text.startsWith('{"port"'));
  const address = `127.0.0.1:${line.port}`;
  return { pid: child.pid!, grpcAddress: address, authzenAddress: address, authzenH2cAddress: `127.0.0.1:${line.h2cPort}`, stderr, stop: stopper(child) };
}

export async function startKeycard(cpus: readonly number[], config: string, workers: number | undefined): Promise<ServerUnderTest> {
  const args = [KEYCARD_CLI, 'serve', '--config', config, '--grpc-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'];
  if (workers !== undefined) args.push('--workers', String(workers));
  const { child, line, stderr } = await launch(cpus, args, (text) => text.includes('"keycard listening"'));
  return {
    pid: child.pid!,
    grpcAddress: `127.0.0.1:${line.grpcPort}`,
    ...(line.authzenPort !== undefined && { authzenAddress: `127.0.0.1:${line.authzenPort}` }),
    adminUrl: `http://127.0.0.1:${line.adminPort}`,
    stderr,
    stop: stopper(child),
  };
}

/**
 * A server started with the URL of a private redis-server (a free port, never 6379), which is
 * removed when the server stops.
 */
export async function onPrivateRedis(start: (url: string) => Promise<ServerUnderTest>): Promise<ServerUnderTest & { readonly redis: RedisServer }> {
  const redis = await RedisServer.start();
  try {
    const server = await start(redis.url());
    return {
      ...server,
      redis,
      async stop() {
        const code = await server.stop();
        await redis.remove();
        return code;
      },
    };
  } catch (error) {
    await redis.remove();
    throw error;
  }
}
