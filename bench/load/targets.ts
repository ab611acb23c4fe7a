// The servers under test besides the bare handler: keycard with the memory store, with a shadow
// policy set (shadow.ts), with a private Redis (the shared store behind its read cache), and with
// two workers.
import type { Load } from './h2load.js';
import { MEMORY_STORE, type Scenario } from './scenario.js';
import { onPrivateRedis, startKeycard, type ServerUnderTest } from './servers.js';
import { startWithShadow } from './shadow.js';

export interface Target {
  readonly label: string;
  /** The target this one is compared with at the same load. */
  readonly baseline?: string;
  readonly loads: readonly Load[];
  /** CPUs the server is pinned to. */
  readonly cpuCount: number;
  /** keycard: identity headers are checked and its decision counters compared with h2load's counts. */
  readonly keycard: boolean;
  /** keycard with a shadow policy set: every round also checks that the shadow agreed on every request. */
  readonly shadow?: boolean;
  start(cpus: readonly number[], scenario: Scenario): Promise<ServerUnderTest>;
}

export interface KeycardTargetOptions {
  readonly smoke: boolean;
  readonly baseline: string;
  readonly loads: readonly Load[];
  /** The loads for the Redis store (the body load compares transports, not stores). */
  readonly storeLoads: readonly Load[];
  /** The load at which two workers are compared with one. */
  readonly scaleLoad: Load;
  /** The loads at which keycard with a shadow policy set is compared with keycard without. */
  readonly shadowLoads: readonly Load[];
  readonly names: { readonly memory: string; readonly twoWorkers: string; readonly shadow: string };
}

export function keycardTargets(options: KeycardTargetOptions): Target[] {
  const common = { baseline: options.baseline, keycard: true };
  const list: Target[] = [
    {
      ...common,
      label: options.names.memory,
      loads: options.loads,
      cpuCount: 1,
      start: (cpus, scenario) => startKeycard(cpus, scenario.settingsFor(MEMORY_STORE, 'keycard-memory.yaml'), 1),
    },
    {
      ...common,
      label: options.names.shadow,
      loads: options.shadowLoads,
      cpuCount: 1,
      shadow: true,
      start: (cpus, scenario) => startWithShadow(cpus, scenario),
    },
  ];
  if (options.smoke) return list;
  list.push(
    {
      ...common,
      label: 'keycard, Redis store',
      loads: options.storeLoads,
      cpuCount: 1,
      start: (cpus, scenario) => startWithRedis(cpus, scenario),
    },
    {
      ...common,
      label: options.names.twoWorkers,
      loads: [options.scaleLoad],
      cpuCount: 2,
      start: (cpus, scenario) => startKeycard(cpus, scenario.settingsFor(MEMORY_STORE, 'keycard-memory.yaml'), 2),
    },
  );
  return list;
}

/**
 * keycard on a private redis-server, seeded from the scenario's seed file at start. Redis runs on
 * the server's CPUs; its own CPU time is not counted.
 */
function startWithRedis(cpus: readonly number[], scenario: Scenario): Promise<ServerUnderTest> {
  return onPrivateRedis((url) => startKeycard(cpus, scenario.settingsFor({ settings: `{ type: redis, url: "${url}", seedFile: seed.yaml }` }, 'keycard-redis.yaml'), 1));
}
