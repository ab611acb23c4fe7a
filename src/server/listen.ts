// Binding the HTTP listeners (admin, HTTP check) to a TCP address or a Unix domain socket.
import cluster from 'node:cluster';
import { lstatSync, unlinkSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import type { ListenAddress } from '../config/listen-address.js';

/** Listens and resolves with the bound port (0 for a Unix socket). */
export async function listenOn(server: Server, address: ListenAddress): Promise<number> {
  if (address.socket !== undefined) removeStaleSocket(address.socket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.socket !== undefined) server.listen(address.socket, done);
    else server.listen(address.port, address.host, done);
  });
  const bound = server.address();
  return typeof bound === 'object' && bound !== null ? (bound as AddressInfo).port : 0;
}

/**
 * A socket file left by a process that died would make the bind fail; anything else is kept.
 * A cluster worker removes nothing: its socket is its primary's, which removed any stale file
 * before forking; a worker (re)starting later would otherwise unlink the live socket.
 */
export function removeStaleSocket(path: string): void {
  if (cluster.isWorker) return;
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there: nothing to remove.
  }
}
