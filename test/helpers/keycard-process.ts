// Runs the built keycard CLI (`dist/cli.js serve`) as a real process on free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface KeycardProcess {
  readonly process: ChildProcess;
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly grpcAddress: string;
  readonly adminUrl: string;
  /** Everything written to stderr so far (structured logs). */
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startKeycard(configFile: string, extraArgs: string[] = []): Promise<KeycardProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--grpc-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ports = await new Promise<{ grpcPort: number; adminPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keycard did not start in time:\n${stderr}`)), 15_000);
    void exited.then((code) => reject(new Error(`keycard exited with ${code} before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"keycard listening"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { grpcPort: number; adminPort: number });
    });
  });

  return {
    process: child,
    ...ports,
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    adminUrl: `http://127.0.0.1:${ports.adminPort}`,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
