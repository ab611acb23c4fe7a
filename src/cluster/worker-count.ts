// The default for `keycard serve --workers`: one worker per CPU keycard may use, which is the
// smaller of the CPUs it may run on and its cgroup CPU quota (a Kubernetes CPU limit), rounded up.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function defaultWorkerCount(readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): number {
  const quota = cgroupCpuQuota(readFile);
  return Math.max(1, Math.min(availableParallelism(), quota === undefined ? Number.POSITIVE_INFINITY : Math.ceil(quota)));
}

/** CPUs allowed by the cgroup quota (v2 cpu.max, else v1 cfs quota / period); undefined when unlimited or unknown. */
export function cgroupCpuQuota(readFile: (path: string) => string): number | undefined {
  const read = (path: string) => {
    try {
      return readFile(path).trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    return quota === 'max' || !Number(period) ? undefined : Number(quota) / Number(period);
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined;
}
