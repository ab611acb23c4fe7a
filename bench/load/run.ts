// `make bench` / `make bench-smoke`: in one run, the bare Check handler and keycard under the same
// h2load loads, each server pinned away from h2load's CPU, every run verified; then the AuthZEN
// part (authzen.ts): a bare AuthZEN handler and keycard the same way. Writes a markdown report.
// The targets take turns in rounds (A B C, C B A, ...), so a burst of other work on the machine
// hits them alike; rps is the median of the rounds.
// Usage: node build/bench/bench/load/run.js [--smoke] [--part all|check|authzen] [--seconds N] [--rounds N] [--out FILE] [--micro FILE]
// A run of one part writes build/bench/PART.md unless --out says otherwise (never latest.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { allowedCpus, treeRssBytes } from './cpu.js';
import { loadName, runH2load, type Load } from './h2load.js';
import { emptyTally, measuredRun, tallyStats, type Tally } from './measure.js';
import { describeMachine, microTable, rps, table, targets as targetTable, type Row } from './report.js';
import { createScenario, type Scenario } from './scenario.js';
import { runAuthzenPart, type AuthzenPartResult } from './authzen.js';
import { authzenSection } from './authzen-report.js';
import { startBare, type ServerUnderTest } from './servers.js';
import { decisionCounts, verifyAllows } from './verify.js';
import type { ColdJwtResult } from './cold-jwt.js';
import type { MemoryResult } from './memory.js';
import { keycardTargets, type Target } from './targets.js';
import { settledShadowCounts, shadowSection, verifyShadowRound } from './shadow.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    micro: { type: 'string' },
    memory: { type: 'string' },
    jwt: { type: 'string' },
    part: { type: 'string', default: 'all' },
  },
});
const smoke = values.smoke;
const part = values.part;
if (part !== 'all' && part !== 'check' && part !== 'authzen') throw new Error(`--part is all, check or authzen, not ${part}`);
/** Measured seconds per (target, load), split over the rounds. */
const seconds = Number(values.seconds ?? (smoke ? 0.5 : 10));
const rounds = Number(values.rounds ?? (smoke ? 1 : 5));
const out = values.out ?? (smoke ? 'build/bench/smoke.md' : part === 'all' ? 'bench/results/latest.md' : `build/bench/${part}.md`);

const L1x1: Load = { connections: 1, streams: 1 };
const L1x10: Load = { connections: 1, streams: 10 };
const L4x50: Load = { connections: 4, streams: 50 };
/** Where HTTP/2 flow control matters: 50 Checks of 8 KiB in flight per connection, more than the default 64 KiB window. */
const L4x50_BODY: Load = { connections: 4, streams: 50, body: true };
const LOADS = smoke ? [L1x10] : [L1x1, L1x10, L4x50, L4x50_BODY];

const cpus = allowedCpus();
const loadCpu = cpus[cpus.length - 1]!;
/** `count` CPUs for a server, avoiding h2load's CPU while there are enough others. */
function placement(count: number): { cpus: number[]; shared: boolean } {
  const others = cpus.filter((cpu) => cpu !== loadCpu);
  if (others.length >= count) return { cpus: others.slice(0, count), shared: false };
  return { cpus: cpus.slice(0, Math.max(1, Math.min(count, cpus.length))), shared: true };
}

/** Requests a server answers before its first measured round (JIT tiers up over the first tens of thousands). */
const WARM_REQUESTS = 50_000;

const BARE = 'bare grpc-js handler';
const KEYCARD = 'keycard, memory store';
const TWO_WORKERS = 'keycard, memory store, 2 workers';
const SHADOW = 'keycard, memory store, shadow policy';

function targets(): Target[] {
  const list: Target[] = [{ label: BARE, loads: LOADS, cpuCount: 1, keycard: false, start: (pinTo) => startBare(pinTo, 'keycard') }];
  const storeLoads = LOADS.filter((load) => !load.body);
  list.push(
    ...keycardTargets({ smoke, baseline: BARE, loads: LOADS, storeLoads, scaleLoad: L4x50, shadowLoads: storeLoads, names: { memory: KEYCARD, twoWorkers: TWO_WORKERS, shadow: SHADOW } }),
  );
  if (!smoke) {
    // The same bare handler with grpc-js's defaults: what keycard's gRPC tuning changes on its own.
    list.push({ label: 'bare, grpc-js default options', baseline: BARE, loads: [L4x50, L4x50_BODY], cpuCount: 1, keycard: false, start: (pinTo) => startBare(pinTo, 'defaults') });
  }
  return list;
}

async function untilAllowed(server: ServerUnderTest, scenario: Scenario, keycard: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await verifyAllows(server, scenario.request, keycard);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

interface Running {
  readonly target: Target;
  readonly server: ServerUnderTest;
  readonly placement: { cpus: number[]; shared: boolean };
  /** Requests the server has answered so far (warm-ups included). */
  served: number;
}

async function measureRound(running: Running, scenario: Scenario, load: Load, requests: number, tally: Tally): Promise<void> {
  const { target, server } = running;
  const url = `http://${server.grpcAddress}/envoy.service.auth.v3.Authorization/Check`;
  const name = `${target.label} ${loadName(load)}`;
  const countsBefore = target.keycard ? await decisionCounts(server.adminUrl!) : undefined;
  const shadowBefore = target.shadow ? await settledShadowCounts(server.adminUrl!) : undefined;
  const dataFile = load.body ? scenario.bodyFrameFile : scenario.frameFile;
  await measuredRun(server.pid, { url, dataFile, load, cpus: [loadCpu], requests, logFile: scenario.workspace.path('h2load.log') }, name, tally);
  if (countsBefore) {
    // h2load sees HTTP 200 only; keycard's counters say how each of those requests was decided.
    const after = await decisionCounts(server.adminUrl!);
    const allowed = after.allow - countsBefore.allow;
    const other = after.other - countsBefore.other;
    if (allowed !== requests || other !== 0) throw new Error(`${name}: ${requests} requests sent, ${allowed} allowed, ${other} decided otherwise`);
  }
  if (shadowBefore) await verifyShadowRound(server.adminUrl!, shadowBefore, requests, name);
}

function toRow(running: Running, load: Load, tally: Tally): Row {
  return {
    target: running.target.label,
    ...(running.target.baseline && { baseline: running.target.baseline }),
    load,
    requests: tally.requests,
    rpsByRound: tally.rps,
    ...tallyStats(tally),
    serverCpus: running.placement.cpus,
    sharedWithLoad: running.placement.shared,
  };
}

/** The Check part: every target under every load of LOADS; its rows and notes. */
async function runCheckPart(scenario: Scenario): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const running: Running[] = [];
  try {
    for (const target of targets()) {
      const where = placement(target.cpuCount);
      const server = await target.start(where.cpus, scenario);
      running.push({ target, server, placement: where, served: 0 });
      // Also warms keycard's token cache; a Redis store may still be applying the seed at first.
      await untilAllowed(server, scenario, target.keycard);
    }
    for (const load of LOADS) {
      const here = running.filter((r) => r.target.loads.includes(load));
      const perRound = new Map<Running, number>();
      for (const r of here) {
        // Warm-up: connections, JIT, caches. Its rate sizes the rounds.
        const url = `http://${r.server.grpcAddress}/envoy.service.auth.v3.Authorization/Check`;
        // Every server answers WARM_REQUESTS (at 4×50, quickly) before its first measured round, so
        // one that meets its first load late (the 2-worker one) is as warm as the others.
        if (!smoke && r.served < WARM_REQUESTS) {
          await runH2load({ url, dataFile: scenario.frameFile, load: L4x50, cpus: [loadCpu], requests: WARM_REQUESTS - r.served });
          r.served = WARM_REQUESTS;
        }
        const warmRequests = Math.max(load.connections * load.streams * 20, smoke ? 300 : 3000);
        const warm = await runH2load({ url, dataFile: load.body ? scenario.bodyFrameFile : scenario.frameFile, load, cpus: [loadCpu], requests: warmRequests });
        r.served += warmRequests;
        perRound.set(r, Math.max(load.connections * load.streams * 10, Math.round((warm.rps * seconds) / rounds)));
      }
      const tallies = new Map<Running, Tally>(here.map((r) => [r, emptyTally()]));
      for (let round = 0; round < rounds; round++) {
        for (const r of round % 2 === 0 ? here : [...here].reverse()) {
          await measureRound(r, scenario, load, perRound.get(r)!, tallies.get(r)!);
          r.served += perRound.get(r)!;
        }
      }
      for (const r of here) {
        await verifyAllows(r.server, scenario.request, r.target.keycard);
        const row = toRow(r, load, tallies.get(r)!);
        rows.push(row);
        console.log(`${row.target.padEnd(44)} ${loadName(load).padEnd(5)} ${Math.round(rps(row)).toString().padStart(6)} rps  p50 ${row.p50.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms  ${row.cpuUsPerRequest.toFixed(0)} µs CPU/req  other load ${row.otherCpuPercent.toFixed(0)}%`);
      }
    }
    for (const r of running) notes.push(`${r.target.label}: RSS ${(treeRssBytes(r.server.pid) / 2 ** 20).toFixed(0)} MiB after its runs`);
  } finally {
    for (const r of running) {
      const code = await r.server.stop();
      if (code !== 0) notes.push(`${r.target.label}: exited with ${code} on SIGTERM\n${r.server.stderr()}`);
    }
  }
  return { rows, notes };
}

async function main(): Promise<void> {
  const started = Date.now();
  const scenario = await createScenario();
  let check: { rows: Row[]; notes: string[] } | undefined;
  let authzen: AuthzenPartResult | undefined;
  try {
    if (part !== 'authzen') check = await runCheckPart(scenario);
    if (part !== 'check') authzen = await runAuthzenPart({ smoke, seconds, rounds, scenario, loadCpu, placement });
  } finally {
    scenario.workspace.remove();
  }

  const sections = [`# keycard load benchmark${smoke ? ' (smoke run: too short for meaningful numbers)' : ''}`, '', `${new Date().toISOString().slice(0, 10)} · ${describeMachine(cpus)}`];
  if (check) {
    const { rows, notes } = check;
    sections.push(
      '',
      `h2load (1 thread, pinned to CPU ${loadCpu}) sends one pre-encoded CheckRequest frame (${scenario.frame.length} bytes: an Envoy-shaped GET with 12 headers, ` +
        `an RS256 bearer token) over h2c. For each load, the servers take turns in ${rounds} round(s) of about ${(seconds / rounds).toFixed(1)} s each after a warm-up; ` +
        'rps is the median of the rounds (range in brackets) and "rps ÷ bare" the median of the per-round ratios; latency percentiles come from h2load\'s ' +
        'per-request log of all rounds, CPU per request is the ' +
        'server process tree\'s utime + stime divided by the requests, and "other load" is the CPU the rest of the machine used meanwhile (100% = one CPU). ' +
        'Every run is verified: every request answered HTTP 200, keycard\'s `keycard_decisions_total` grew by exactly the number sent (all allows), and a gRPC ' +
        'client checked status and decision (identity headers) before and after.',
      '',
      table(rows),
      '',
      ...notes.map((note) => `- ${note}`),
    );
    sections.push('', '## Shadow policy (issue 10)', '', shadowSection(rows, { keycard: KEYCARD, shadow: SHADOW }));
  }
  if (authzen) {
    sections.push('', '## AuthZEN (issue 11)', '', authzenSection(authzen, rounds));
    if (authzen.notes.length > 0) sections.push('', ...authzen.notes.map((note) => `- ${note}`));
  }
  const micro = values.micro ? microTable(values.micro) : undefined;
  const coldJwt = values.jwt ? (JSON.parse(readFileSync(values.jwt, 'utf8')) as ColdJwtResult) : undefined;
  if (check && !smoke) sections.push('', '## Targets (issue 7)', '', targetTable(check.rows, { bare: BARE, keycard: KEYCARD, twoWorkers: TWO_WORKERS }, micro, coldJwt));
  if (values.memory) sections.push('', '## Memory', '', memorySection(JSON.parse(readFileSync(values.memory, 'utf8')) as MemoryResult));
  if (micro) sections.push('', '## Micro-benchmarks (vitest bench, in process, per operation)', '', micro.markdown);
  sections.push('', `Total benchmark time: ${((Date.now() - started) / 1000).toFixed(0)} s.`, '');
  const report = sections.join('\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
  console.log(`\n${report}\nwritten to ${out}`);
}

function memorySection(m: MemoryResult): string {
  return [
    `One in-process keycard decided ${m.requests.toLocaleString('en')} requests carrying ${m.tokens.toLocaleString('en')} distinct tokens (ES256, each in a burst of ` +
      `${Math.round(m.requests / m.tokens)}, 64 in flight; token cache of ${m.cacheSize.toLocaleString('en')} entries; audit lines to /dev/null) in ${m.seconds.toFixed(1)} s, ` +
      `${m.allowed.toLocaleString('en')} allowed. "Before" is after signing the tokens, which the benchmark itself holds (about 30 MiB of the heap).`,
    '',
    '| RSS before | RSS after | heap after GC, before | heap after GC, after | retained by keycard |',
    '|---:|---:|---:|---:|---:|',
    `| ${m.rssBeforeMiB.toFixed(0)} MiB | ${m.rssAfterMiB.toFixed(0)} MiB | ${m.heapBeforeGcMiB.toFixed(0)} MiB | ${m.heapAfterGcMiB.toFixed(0)} MiB | ${(m.heapAfterGcMiB - m.heapBeforeGcMiB).toFixed(0)} MiB |`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
