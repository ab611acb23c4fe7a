import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { Keycard, type RunningPorts } from '../app.js';
import { ClusterPrimary } from '../cluster/primary.js';
import { announceListening, answerPrimary } from '../cluster/worker.js';
import { defaultWorkerCount } from '../cluster/worker-count.js';
import { parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { configPath, UsageError } from './usage.js';

/**
 * `keycard serve`. With --workers N > 1 (the default on a machine with several CPUs) this process
 * becomes a cluster primary that forks N workers running the same command; each worker is a whole
 * keycard. --workers 1 serves from this process alone.
 */
export async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'grpc-listen': { type: 'string' },
      'admin-listen': { type: 'string' },
      'http-listen': { type: 'string' },
      workers: { type: 'string' },
    },
  });
  const workers = workersFlag(values.workers);
  const settings = loadSettings(configPath(values.config), {
    grpcListen: listenFlag('--grpc-listen', values['grpc-listen']),
    adminListen: listenFlag('--admin-listen', values['admin-listen']),
    httpListen: listenFlag('--http-listen', values['http-listen']),
  });
  if (cluster.isWorker) return serveWorker(settings);
  if (workers > 1) return servePrimary(settings, workers);
  return serveAlone(settings);
}

async function serveAlone(settings: Settings): Promise<void> {
  const keycard = new Keycard(settings);
  const ports = await startOrStop(keycard);
  // A line for people and for scripts that wait for the ports (tests start keycard on port 0).
  console.log(JSON.stringify({ msg: 'keycard listening', grpcPort: ports.grpc, adminPort: ports.admin, httpPort: ports.http, authzenPort: ports.authzen, ready: keycard.readiness().ready }));
  onSignals(keycard.logger, () => keycard.stop().then(() => 0));
}

async function serveWorker(settings: Settings): Promise<void> {
  const keycard = new Keycard(settings, undefined, { admin: false, sharedOutput: true });
  answerPrimary(keycard);
  // The IPC channel would keep a worker that failed to start alive, and the primary waiting for it.
  const ports = await startOrStop(keycard, () => process.disconnect?.());
  announceListening(ports.grpc, ports.http, ports.authzen);
  const stop = onSignals(keycard.logger, () => keycard.stop().then(() => 0));
  // Without its primary a worker would serve unsupervised: it stops too.
  process.once('disconnect', () => stop('disconnect'));
}

/**
 * Starts keycard; if that fails, stops what did start before failing: the store's connections
 * (a Redis client retrying, its change feed) and timers would otherwise keep the process alive,
 * a keycard that will never listen and never exits.
 */
async function startOrStop(keycard: Keycard, afterStop?: () => void): Promise<RunningPorts> {
  try {
    return await keycard.start();
  } catch (error) {
    await keycard.stop().catch(() => undefined);
    afterStop?.();
    throw error;
  }
}

async function servePrimary(settings: Settings, workers: number): Promise<void> {
  const logger = createLogger(settings.log.level);
  const primary = new ClusterPrimary(settings, workers, logger);
  const ports = await primary.start();
  console.log(JSON.stringify({ msg: 'keycard listening', grpcPort: ports.grpc, adminPort: ports.admin, httpPort: ports.http, authzenPort: ports.authzen, ready: ports.ready, workers }));
  logger.info({ grpcPort: ports.grpc, adminPort: ports.admin, httpPort: ports.http, authzenPort: ports.authzen, workers }, 'keycard cluster listening');
  onSignals(logger, () => primary.stop().then((clean) => (clean ? 0 : 1)));
}

/** SIGTERM and SIGINT stop gracefully (once), then exit with the code `stop` gives. Returns the trigger. */
function onSignals(logger: Logger, stop: () => Promise<number>): (reason: string) => void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, 'shutting down: finishing in-flight checks');
    stop().then(
      (code) => process.exit(code),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return shutdown;
}

function listenFlag(flag: string, value: string | undefined): ListenAddress | undefined {
  if (value === undefined) return undefined;
  const parsed = parseListenAddress(value);
  if (!parsed) throw new UsageError(`${flag}: "${value}" is not HOST:PORT`);
  return parsed;
}

function workersFlag(value: string | undefined): number {
  if (value === undefined) return defaultWorkerCount();
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new UsageError(`--workers: "${value}" is not a number of worker processes (1-999)`);
  return Number(value);
}
