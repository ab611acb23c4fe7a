// The default for `keycard serve --workers`: one worker per CPU keycard may use, which is the
// smaller of the CPUs it may run on and its cgroup CPU quota (a Kubernetes CPU limit), rounded
// up; and no more workers than its cgroup memory limit holds at WORKER_MEMORY_BYTES each (a
// sidecar with a small memory limit and no CPU limit runs one process, not one per node CPU).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** What one worker is budgeted (it stays near 100-200 MiB under load; see README "Performance"). */
export const WORKER_MEMORY_BYTES = 192 * 2 ** 20;

type ReadFile = (path: string) => string;

const readSys: ReadFile = (path) => readFileSync(path, 'utf8');

export function defaultWorkerCount(readFile: ReadFile = readSys): number {
  const quota = cgroupCpuQuota(readFile);
  const memory = cgroupMemoryLimit(readFile);
  const byCpu = quota === undefined ? Number.POSITIVE_INFINITY : Math.ceil(quota);
  const byMemory = memory === undefined ? Number.POSITIVE_INFINITY : Math.floor(memory / WORKER_MEMORY_BYTES);
  return Math.max(1, Math.min(availableParallelism(), byCpu, byMemory));
}

function reader(readFile: ReadFile): (path: string) => string | undefined {
  return (path) => {
    try {
      return readFile(path).trim();
    } catch {
      return undefined;
    }
  };
}

/** CPUs allowed by the cgroup quota (v2 cpu.max, else v1 cfs quota / period); undefined when unlimited or unknown. */
export function cgroupCpuQuota(readFile: ReadFile): number | undefined {
  const read = reader(readFile);
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    return quota === 'max' || !Number(period) ? undefined : Number(quota) / Number(period);
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/** Bytes allowed by the cgroup memory limit (v2 memory.max, else v1); undefined when unlimited or unknown. */
export function cgroupMemoryLimit(readFile: ReadFile): number | undefined {
  const read = reader(readFile);
  const text = read('/sys/fs/cgroup/memory.max') ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const bytes = Number(text);
  // v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages): anything past 2^60 is unlimited.
  return text === undefined || text === 'max' || !Number.isFinite(bytes) || bytes <= 0 || bytes >= 2 ** 60 ? undefined : bytes;
}
