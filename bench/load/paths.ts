// Where the load benchmark finds the project: it runs compiled from build/bench/, so paths are
// resolved from the repository root (the nearest directory above with keycard's package.json).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'keycard') return dir;
    if (dirname(dir) === dir) throw new Error(`no keycard package.json above ${start}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
/** The built keycard CLI (`make build`). */
export const KEYCARD_CLI = join(ROOT, 'dist', 'cli.js');
/** The compiled bare Check server, beside this module in build/bench/. */
export const BARE_SERVER = join(dirname(fileURLToPath(import.meta.url)), 'bare-server.js');
/** The compiled bare AuthZEN server, beside this module in build/bench/. */
export const BARE_AUTHZEN_SERVER = join(dirname(fileURLToPath(import.meta.url)), 'authzen-bare-server.js');
