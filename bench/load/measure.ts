// One measured h2load run and what the rounds of one (target, load) add up to: requests, rps per
// round, every request's latency, the server's CPU and the CPU the rest of the machine used
// meanwhile. Shared by the Check part (run.ts) and the AuthZEN part (authzen.ts).
import { finishedChildrenCpuSeconds, machineBusySeconds, treeCpuSeconds } from './cpu.js';
import { quantile, runH2load, type H2loadResult, type H2loadRun } from './h2load.js';

export interface Tally {
  requests: number;
  rps: number[];
  latencies: Float64Array[];
  serverCpu: number;
  otherCpu: number;
  wallSeconds: number;
}

export const emptyTally = (): Tally => ({ requests: 0, rps: [], latencies: [], serverCpu: 0, otherCpu: 0, wallSeconds: 0 });

/**
 * Runs h2load for exactly `run.requests` requests against the server `serverPid`, throws unless
 * every one succeeded with a 2xx, and adds the round to `tally`.
 */
export async function measuredRun(serverPid: number, run: H2loadRun & { readonly requests: number; readonly logFile: string }, name: string, tally: Tally): Promise<H2loadResult> {
  const selfBefore = process.cpuUsage();
  const childrenBefore = finishedChildrenCpuSeconds();
  const busyBefore = machineBusySeconds();
  const serverBefore = treeCpuSeconds(serverPid);
  const started = performance.now();
  const result = await runH2load(run);
  const wall = (performance.now() - started) / 1000;
  const serverUsed = treeCpuSeconds(serverPid) - serverBefore;
  const busy = machineBusySeconds() - busyBefore;
  const h2load = finishedChildrenCpuSeconds() - childrenBefore;
  const self = process.cpuUsage(selfBefore);
  if (result.succeeded !== run.requests || result.failed !== 0 || result.non2xx !== 0) {
    throw new Error(`${name}: ${result.succeeded}/${run.requests} succeeded, ${result.failed} failed, ${result.non2xx} non-2xx`);
  }
  tally.requests += run.requests;
  tally.rps.push(result.rps);
  tally.latencies.push(result.latenciesUs!);
  tally.serverCpu += serverUsed;
  tally.otherCpu += Math.max(0, busy - serverUsed - h2load - (self.user + self.system) / 1e6);
  tally.wallSeconds += wall;
  return result;
}

export interface TallyStats {
  /** Milliseconds, over every request of every round. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly cpuUsPerRequest: number;
  /** CPU the rest of the machine used during the rounds, in % of one CPU. */
  readonly otherCpuPercent: number;
}

export function tallyStats(tally: Tally): TallyStats {
  const all = new Float64Array(tally.latencies.reduce((n, l) => n + l.length, 0));
  let offset = 0;
  for (const part of tally.latencies) {
    all.set(part, offset);
    offset += part.length;
  }
  all.sort();
  const at = (q: number) => quantile(all, q) / 1000;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    cpuUsPerRequest: (tally.serverCpu / tally.requests) * 1e6,
    otherCpuPercent: (tally.otherCpu / tally.wallSeconds) * 100,
  };
}
