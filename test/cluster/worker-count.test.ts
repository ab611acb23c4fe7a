// The default number of workers: the CPUs keycard may run on, capped by a cgroup CPU quota
// (what a Kubernetes CPU limit becomes), rounded up, and by the cgroup memory limit.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, cgroupMemoryLimit, defaultWorkerCount, WORKER_MEMORY_BYTES } from '../../src/cluster/worker-count.js';
import { runCli } from '../helpers/keycard-process.js';

const files = (entries: Record<string, string>) => (path: string) => {
  const content = entries[path];
  if (content === undefined) throw new Error(`ENOENT ${path}`);
  return content;
};

describe('default worker count', () => {
  it('reads the cgroup v2 quota, then v1, and treats "max" or no file as unlimited', () => {
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(0.5);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBeUndefined();
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });

  it('reads the cgroup v2 memory limit, then v1, and treats "max" or v1\'s huge number as unlimited', () => {
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': '268435456\n' }))).toBe(268435456);
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBeUndefined();
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '536870912' }))).toBe(536870912);
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }))).toBeUndefined();
    expect(cgroupMemoryLimit(files({}))).toBeUndefined();
  });

  it('is the usable CPUs, capped by the CPU quota rounded up and by the memory limit, and at least 1', () => {
    expect(defaultWorkerCount(files({}))).toBe(availableParallelism());
    expect(defaultWorkerCount(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(defaultWorkerCount(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' }))).toBe(Math.min(2, availableParallelism()));
    // A sidecar with 256 MiB and no CPU limit: one process, whatever the node's CPUs.
    expect(defaultWorkerCount(files({ '/sys/fs/cgroup/cpu.max': 'max 100000', '/sys/fs/cgroup/memory.max': String(256 * 2 ** 20) }))).toBe(1);
    expect(defaultWorkerCount(files({ '/sys/fs/cgroup/memory.max': String(2 * WORKER_MEMORY_BYTES) }))).toBe(Math.min(2, availableParallelism()));
  });

  it('rejects a --workers value that is not a positive number (exit 2)', async () => {
    for (const value of ['0', 'two', '-1']) {
      const run = await runCli(['serve', '--workers', value, '--config', 'does-not-matter.yaml']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--workers');
    }
  });
});
