// A private redis-server for one test file: a free port on 127.0.0.1 (never 6379, which belongs to
// the machine's own server), no persistence, its own temporary directory, stopped by pid. It can be
// stopped and started again on the same port, paused (SIGSTOP) and made to drop its pub/sub
// clients, for failure tests. Also a Sentinel and a one-node Cluster, built the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  /** requirepass: clients must authenticate with this password. */
  readonly password?: string;
  /** Cluster mode: one node owning every slot. */
  readonly cluster?: boolean;
  /** Sentinel mode, monitoring the master on this port under this name. */
  readonly sentinelFor?: { readonly masterPort: number; readonly name: string };
  /** Replica of the server on this port. */
  readonly replicaOf?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a server on a free port (retrying with another port if the one chosen was taken). */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'keycard-redis-')), options);
      try {
        await server.launch();
        if (options.cluster) await server.assignAllSlots();
        return server;
      } catch (error) {
        lastError = error;
        await server.remove();
      }
    }
    throw lastError;
  }

  /** `redis://127.0.0.1:PORT/0`, with the password when `withPassword`. */
  url(withPassword = false): string {
    const auth = withPassword && this.options.password !== undefined ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `redis://${auth}127.0.0.1:${this.port}/0`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the server (SIGTERM, SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    live.delete(child);
  }

  /** Starts the server again on the same port (empty: nothing is persisted). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
    if (this.options.cluster) await this.assignAllSlots();
  }

  /** SIGSTOP: the server keeps its connections but answers nothing until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Runs one command on a short-lived connection of its own. */
  async command(...args: (string | number)[]): Promise<unknown> {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      ...(this.options.password !== undefined && { password: this.options.password }),
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const [name, ...rest] = args;
      return await client.call(String(name), ...rest);
    } finally {
      client.disconnect();
    }
  }

  /** Drops every client in pub/sub mode (CLIENT KILL TYPE pubsub); resolves with how many. */
  async killPubSubClients(): Promise<number> {
    return Number(await this.command('CLIENT', 'KILL', 'TYPE', 'pubsub'));
  }

  /** Stops the server and removes its directory. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the server wrote to stdout and stderr (for failure messages). */
  log(): string {
    return this.output;
  }

  private args(): string[] {
    const common = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'];
    const { password, cluster, sentinelFor, replicaOf } = this.options;
    if (sentinelFor) {
      // Sentinel rewrites its config file: it lives in the server's directory.
      const config = join(this.dir, 'sentinel.conf');
      writeFileSync(
        config,
        [
          `port ${this.port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${sentinelFor.name} 127.0.0.1 ${sentinelFor.masterPort} 1`,
          `sentinel down-after-milliseconds ${sentinelFor.name} 1000`,
          `sentinel failover-timeout ${sentinelFor.name} 5000`,
          ...(password !== undefined ? [`sentinel auth-pass ${sentinelFor.name} ${password}`] : []),
          '',
        ].join('\n'),
      );
      return [config, '--sentinel'];
    }
    return [
      ...common,
      ...(password !== undefined ? ['--requirepass', password, '--masterauth', password] : []),
      // A lone cluster node knows no address of its own unless told: clients must be sent to 127.0.0.1.
      ...(cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1'] : []),
      ...(replicaOf !== undefined ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ];
  }

  private async launch(): Promise<void> {
    if (this.port === 6379) throw new Error('port 6379 belongs to the machine');
    const child = spawn('redis-server', this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.once('exit', () => live.delete(child));
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${this.output}`))));
    await Promise.race([this.waitForPing(), spawnFailed, exited]);
  }

  private async waitForPing(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`redis-server is not running:\n${this.output}`);
      if (await ping(this.port, this.options.sentinelFor ? undefined : this.options.password)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING:\n${this.output}`);
  }

  private async assignAllSlots(): Promise<void> {
    // After a restart the node remembers its slots (nodes.conf).
    if (!String(await this.command('CLUSTER', 'INFO')).includes('cluster_slots_assigned:16384')) await this.command('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (String(await this.command('CLUSTER', 'INFO')).includes('cluster_state:ok')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the one-node cluster did not reach cluster_state:ok');
  }
}

/** A port nobody listens on right now (never 6379). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port !== 6379 && port !== 0) return port;
  }
}

/** Whether a server answers PING on the port (after AUTH when a password is given). */
function ping(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      if (data.includes('+PONG')) done(true);
      else if (data.includes('-')) done(false);
    });
    socket.once('connect', () => socket.write(`${password !== undefined ? `AUTH ${password}\r\n` : ''}PING\r\n`));
  });
}
