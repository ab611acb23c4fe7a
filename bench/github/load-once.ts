// One cold start, measured in a process of its own: the GitHub policy set loaded as `keycard
// serve` loads it (loadPolicySet with the reloads' description cache), then hot reloads with the
// document unchanged (the cache re-hashes the file and skips parsing). Prints one JSON line.
// With --description, only the API description is loaded (read, parsed, validated, operations
// resolved), to tell its share of the cold load from the policy file's.
// Usage: node --expose-gc build/bench/bench/github/load-once.js --config FILE [--reloads N]
//        node build/bench/bench/github/load-once.js --description FILE
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadSettings, policyCompileOptions } from '../../src/config/settings.js';
import { loadPolicySet } from '../../src/policy/load-policies.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { ApiDescriptionCache } from '../../src/registry/api-cache.js';
import { loadApiDocument } from '../../src/registry/openapi.js';

export interface LoadResult {
  readonly coldMs: number;
  /** CPU time of the process during the cold load (the main thread and V8's helper threads). */
  readonly cpuMs: number;
  readonly warmMs: readonly number[];
  /** Peak resident set size of the process, cold load included. */
  readonly maxRssMiB: number;
  /** Heap in use after the loads and a full GC: what holding the loaded set costs. */
  readonly retainedHeapMiB: number;
  readonly rules: number;
  readonly operations: number;
  readonly version: string;
}

/** The API description alone, cold. */
export interface DescriptionLoadResult {
  readonly coldMs: number;
  /** CPU time of the process during the load (the main thread and V8's helper threads). */
  readonly cpuMs: number;
  readonly maxRssMiB: number;
  readonly operations: number;
}

const { values } = parseArgs({ options: { config: { type: 'string' }, description: { type: 'string' }, reloads: { type: 'string', default: '5' } } });
if (values.description !== undefined) {
  const cpu = process.cpuUsage();
  const begun = performance.now();
  const loaded = await loadApiDocument(values.description);
  const coldMs = performance.now() - begun;
  const used = process.cpuUsage(cpu);
  const result: DescriptionLoadResult = {
    coldMs,
    cpuMs: (used.user + used.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    operations: loaded.description.operations.length,
  };
  console.log(JSON.stringify(result));
  process.exit(0);
}
if (values.config === undefined) throw new Error('--config or --description is required');
const settings = loadSettings(values.config);
const options = { ...policyCompileOptions(settings), relationSchema: RelationSchema.fromSettings(settings.relations), apiCache: new ApiDescriptionCache() };

const cpu = process.cpuUsage();
let started = performance.now();
const set = await loadPolicySet(settings.policies.dir, options);
const coldMs = performance.now() - started;
const used = process.cpuUsage(cpu);
const warmMs: number[] = [];
for (let i = 0; i < Number(values.reloads); i++) {
  started = performance.now();
  const again = await loadPolicySet(settings.policies.dir, options);
  warmMs.push(performance.now() - started);
  if (again.version !== set.version) throw new Error(`a reload of unchanged files changed the version (${set.version} → ${again.version})`);
}
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const policy = set.policies[0];
if (!policy?.api) throw new Error('the policy set has no policy with an API description');
const result: LoadResult = {
  coldMs,
  cpuMs: (used.user + used.system) / 1000,
  warmMs,
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
  retainedHeapMiB: gc ? process.memoryUsage().heapUsed / 2 ** 20 : Number.NaN,
  rules: policy.rules.length,
  operations: policy.api.operations.length,
  version: set.version,
};
console.log(JSON.stringify(result));
