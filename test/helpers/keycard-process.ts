// Runs the built keycard CLI (`dist/cli.js serve`) as a real process on free ports, in a workspace
// of its own, and asks it over gRPC; runs other `dist/cli.js` commands as processes too.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildCheckRequest, check, createCheckClient, type HttpRequestSpec } from '../../src/protocol/check-client.js';
import type { AuthorizationClient } from '../../src/protocol/generated/envoy/service/auth/v3/Authorization.js';
import type { CheckResponse__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { jwks, makeKey, signToken, type TestKey } from './keys.js';
import { Workspace } from './workspace.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface KeycardProcess {
  readonly process: ChildProcess;
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly grpcAddress: string;
  readonly adminUrl: string;
  /** The HTTP check mode's URL, when the settings configure `http`. */
  readonly httpUrl?: string;
  /** Everything written to stderr so far (structured logs). */
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `dist/cli.js serve` on free ports. One process (`--workers 1`) unless `extraArgs` asks for more
 * workers: the default, one worker per CPU, would only make the tests slower.
 */
export async function startKeycard(configFile: string, extraArgs: string[] = []): Promise<KeycardProcess> {
  const workers = extraArgs.includes('--workers') ? [] : ['--workers', '1'];
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--grpc-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...workers, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ports = await new Promise<{ grpcPort: number; adminPort: number; httpPort?: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running after the test: a keycard that never listens may never exit either.
      child.kill('SIGKILL');
      reject(new Error(`keycard did not start in time:\n${stderr}`));
    }, 15_000);
    void exited.then((code) => reject(new Error(`keycard exited with ${code} before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"keycard listening"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { grpcPort: number; adminPort: number; httpPort?: number });
    });
  });

  return {
    process: child,
    ...ports,
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    adminUrl: `http://127.0.0.1:${ports.adminPort}`,
    ...(ports.httpPort !== undefined && { httpUrl: `http://127.0.0.1:${ports.httpPort}` }),
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface LaunchedKeycard {
  readonly workspace: Workspace;
  readonly keycard: KeycardProcess;
}

/**
 * keycard serving from a new workspace that holds `files` (name → content), its settings file
 * `config` among them. If keycard does not start, the workspace is removed and the error thrown.
 */
export async function launchKeycard(files: Readonly<Record<string, string | object>>, config = 'keycard.yaml'): Promise<LaunchedKeycard> {
  const workspace = new Workspace().writeAll(files);
  try {
    return { workspace, keycard: await startKeycard(workspace.path(config)) };
  } catch (error) {
    workspace.remove();
    throw error;
  }
}

export interface ServedKeycard extends LaunchedKeycard {
  /** The signing key of test-idp, whose JWKS is jwks.json. */
  readonly key: TestKey;
  readonly client: AuthorizationClient;
  /** Sends a Check; with `subject`, as that caller, by a bearer token (carrying `claims`) signed with `key`. */
  ask(spec: HttpRequestSpec, subject?: string, claims?: Record<string, unknown>): Promise<CheckResponse__Output>;
  /** The text of the admin /metrics endpoint. */
  metrics(): Promise<string>;
  /** Closes the client, stops keycard and removes the workspace. */
  close(): Promise<void>;
}

/** keycard serving `files` with the settings `settings` (as keycard.yaml) and a new ES256 key for test-idp (as jwks.json), and a Check client for it. */
export async function serveKeycard(settings: string, files: Readonly<Record<string, string | object>>): Promise<ServedKeycard> {
  const key = await makeKey('ES256');
  const { workspace, keycard } = await launchKeycard({ 'keycard.yaml': settings, 'jwks.json': jwks(key), ...files });
  const client = createCheckClient(keycard.grpcAddress);
  return {
    key,
    workspace,
    keycard,
    client,
    async ask(spec, subject, claims = {}) {
      const headers = { ...spec.headers };
      if (subject) headers.authorization = `Bearer ${await signToken(key, { sub: subject, claims })}`;
      return check(client, buildCheckRequest({ ...spec, headers }));
    },
    async metrics() {
      return (await fetch(`${keycard.adminUrl}/metrics`)).text();
    },
    async close() {
      client.close();
      await keycard.stop();
      workspace.remove();
    },
  };
}

/** The value of a header keycard sets on its answer, allowed or denied. */
export function responseHeader(response: CheckResponse__Output, name: string): string | undefined {
  const options = response.ok_response?.headers ?? response.denied_response?.headers ?? [];
  return options.find((option) => option.header?.key === name)?.header?.value;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli.js ...args` (in `cwd`, if given) to its end. */
export function runCli(args: readonly string[], cwd?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd !== undefined && { cwd }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
