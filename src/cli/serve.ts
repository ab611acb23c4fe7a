import { parseArgs } from 'node:util';
import { Keycard } from '../app.js';
import { parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import { loadSettings } from '../config/settings.js';
import { configPath, UsageError } from './usage.js';

export async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, 'grpc-listen': { type: 'string' }, 'admin-listen': { type: 'string' }, 'http-listen': { type: 'string' } },
  });
  const settings = loadSettings(configPath(values.config), {
    grpcListen: listenFlag('--grpc-listen', values['grpc-listen']),
    adminListen: listenFlag('--admin-listen', values['admin-listen']),
    httpListen: listenFlag('--http-listen', values['http-listen']),
  });
  const keycard = new Keycard(settings);
  const ports = await keycard.start();
  // A line for people and for scripts that wait for the ports (tests start keycard on port 0).
  console.log(JSON.stringify({ msg: 'keycard listening', grpcPort: ports.grpc, adminPort: ports.admin, httpPort: ports.http, ready: keycard.readiness().ready }));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    keycard.logger.info({ signal }, 'shutting down: finishing in-flight checks');
    keycard.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        keycard.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function listenFlag(flag: string, value: string | undefined): ListenAddress | undefined {
  if (value === undefined) return undefined;
  const parsed = parseListenAddress(value);
  if (!parsed) throw new UsageError(`${flag}: "${value}" is not HOST:PORT`);
  return parsed;
}
