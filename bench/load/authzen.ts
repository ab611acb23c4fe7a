// The AuthZEN part of the load benchmark (issue 11), in the same run as the Check part: a bare
// AuthZEN handler (node:http and node:http2, a fixed `{"decision":true}`) and keycard answering
// POST /access/v1/evaluation and a batch of 100 on /access/v1/evaluations, under h2load over
// HTTP/1.1 keep-alive and h2c, pinned and taken in turns in rounds as the Check part is. Every
// round is verified against keycard's counters (every request 200, exactly the allows and denies
// the questions call for), answers are sampled with real clients before and after, and with the
// Redis store the store's cache hits and misses and the commands Redis executed are counted: the
// common case should make no store round trip.
import { treeRssBytes } from './cpu.js';
import { loadName, runH2load, type Load } from './h2load.js';
import { emptyTally, measuredRun, tallyStats, type Tally } from './measure.js';
import { rps, type Row } from './report.js';
import { BATCH_ALLOWED, BATCH_SIZE, createAuthzenScenario, type AuthzenScenario } from './authzen-scenario.js';
import { authzenCounts, redisCommands, verifyAuthzenAnswers, verifyAuthzenRound, type AuthzenAddresses, type AuthzenCounts } from './authzen-verify.js';
import type { Scenario } from './scenario.js';
import { onPrivateRedis, startBareAuthzen, startKeycard, type ServerUnderTest } from './servers.js';
import type { RedisServer } from '../../test/helpers/redis-server.js';

export type Question = 'single' | 'batch';

export interface AuthzenLoad extends Load {
  readonly question: Question;
  /** HTTP/1.1 keep-alive (one request in flight per connection); otherwise h2c. */
  readonly http1: boolean;
}

const evaluationsPer = (question: Question) => (question === 'single' ? 1 : BATCH_SIZE);
export const questionName = (question: Question) => (question === 'single' ? 'one evaluation' : `batch of ${BATCH_SIZE}`);
export const protocolName = (load: AuthzenLoad) => (load.http1 ? 'HTTP/1.1' : 'h2c');
export const authzenLoadName = (load: AuthzenLoad) => `${questionName(load.question)}, ${protocolName(load)} ${loadName(load)}`;

const single = (connections: number, streams: number, http1: boolean): AuthzenLoad => ({ question: 'single', connections, streams, http1 });
const batch = (connections: number, streams: number, http1: boolean): AuthzenLoad => ({ question: 'batch', connections, streams, http1 });

const SINGLE_H1_1 = single(1, 1, true);
const SINGLE_H1_16 = single(16, 1, true);
const SINGLE_H2C_4x16 = single(4, 16, false);
const BATCH_H1_1 = batch(1, 1, true);
const BATCH_H1_4 = batch(4, 1, true);
const SMOKE_SINGLE = single(4, 1, true);
const SMOKE_BATCH = batch(1, 1, false);

export const BARE_AUTHZEN = 'bare AuthZEN handler (node:http)';
export const KEYCARD_MEMORY = 'keycard, memory store';
export const KEYCARD_REDIS = 'keycard, Redis store';

interface AuthzenTarget {
  readonly label: string;
  readonly baseline?: string;
  readonly loads: readonly AuthzenLoad[];
  readonly keycard: boolean;
  start(cpus: readonly number[], scenario: AuthzenScenario): Promise<ServerUnderTest & { readonly redis?: RedisServer }>;
}

function targets(smoke: boolean): { loads: AuthzenLoad[]; targets: AuthzenTarget[] } {
  const loads = smoke ? [SMOKE_SINGLE, SMOKE_BATCH] : [SINGLE_H1_1, SINGLE_H1_16, SINGLE_H2C_4x16, BATCH_H1_1, BATCH_H1_4];
  // The Redis store at one single-evaluation and one batch load: enough to count its round trips.
  const redisLoads = smoke ? loads : [SINGLE_H1_16, BATCH_H1_4];
  const keycard = (cpus: readonly number[], scenario: AuthzenScenario, store: string, name: string) => startKeycard(cpus, scenario.settingsFor(store, name), 1);
  const bare: AuthzenTarget = { label: BARE_AUTHZEN, loads, keycard: false, start: (cpus) => startBareAuthzen(cpus) };
  const memory: AuthzenTarget = {
    label: KEYCARD_MEMORY,
    baseline: BARE_AUTHZEN,
    loads,
    keycard: true,
    start: (cpus, scenario) => keycard(cpus, scenario, scenario.memoryStore, 'keycard-authzen-memory.yaml'),
  };
  const redis: AuthzenTarget = {
    label: KEYCARD_REDIS,
    baseline: BARE_AUTHZEN,
    loads: redisLoads,
    keycard: true,
    start: (cpus, scenario) => onPrivateRedis((url) => keycard(cpus, scenario, scenario.redisStore(url), 'keycard-authzen-redis.yaml')),
  };
  // The smoke run's keycard is the Redis one: it takes every path the memory one does, and the store counts.
  return { loads, targets: smoke ? [bare, redis] : [bare, memory, redis] };
}

export interface AuthzenRow extends Row {
  readonly load: AuthzenLoad;
  readonly evaluationsPerRequest: number;
}

/** The store reads keycard made during its measured rounds. */
export interface StoreUse {
  readonly target: string;
  evaluations: number;
  cacheHits: number;
  cacheMisses: number;
  /** Redis store only: commands Redis executed (see redisCommands), and their names. */
  redisCommands?: number;
  readonly commandNames: Set<string>;
}

export interface AuthzenPartOptions {
  readonly smoke: boolean;
  /** Measured seconds per (target, load), split over the rounds. */
  readonly seconds: number;
  readonly rounds: number;
  readonly scenario: Scenario;
  readonly loadCpu: number;
  placement(count: number): { cpus: number[]; shared: boolean };
}

export interface AuthzenPartResult {
  readonly rows: AuthzenRow[];
  readonly store: StoreUse[];
  readonly notes: string[];
  readonly singleBytes: number;
  readonly batchBytes: number;
  /** Measured seconds per (target, load), split over the rounds. */
  readonly seconds: number;
}

interface Running {
  readonly target: AuthzenTarget;
  readonly server: ServerUnderTest & { readonly redis?: RedisServer };
  readonly addresses: AuthzenAddresses;
  readonly placement: { cpus: number[]; shared: boolean };
  readonly store: StoreUse;
}

/** Measured seconds per (target, load) in a smoke run. */
const SMOKE_SECONDS = 0.2;
/** Evaluations a keycard answers before its first measured round (JIT, caches). */
const WARM_EVALUATIONS = 50_000;

export async function runAuthzenPart(options: AuthzenPartOptions): Promise<AuthzenPartResult> {
  const { smoke, rounds, loadCpu } = options;
  // The smoke run only has to show that every path works (make test runs it).
  const seconds = smoke ? SMOKE_SECONDS : options.seconds;
  const scenario = await createAuthzenScenario(options.scenario);
  const plan = targets(smoke);
  const logFile = options.scenario.workspace.path('h2load-authzen.log');
  const h2load = (r: Running, load: AuthzenLoad, requests: number) => ({
    url: `http://${load.http1 ? r.addresses.http1 : r.addresses.h2c}/access/v1/${load.question === 'single' ? 'evaluation' : 'evaluations'}`,
    dataFile: load.question === 'single' ? scenario.singleFile : scenario.batchFile,
    headers: scenario.headers,
    http1: load.http1,
    load,
    cpus: [loadCpu],
    requests,
  });
  const rows: AuthzenRow[] = [];
  const notes: string[] = [];
  const running: Running[] = [];
  try {
    // Started together, so that their start-ups overlap; warmed one at a time.
    const started = await Promise.allSettled(
      plan.targets.map(async (target) => {
        const where = options.placement(1);
        return { target, placement: where, server: await target.start(where.cpus, scenario) };
      }),
    );
    for (const result of started) {
      if (result.status === 'rejected') continue;
      const { target, server, placement } = result.value;
      const http1 = server.authzenAddress ?? '';
      running.push({ target, server, placement, addresses: { http1, h2c: server.authzenH2cAddress ?? http1 }, store: { target: target.label, evaluations: 0, cacheHits: 0, cacheMisses: 0, commandNames: new Set() } });
    }
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    for (const r of running) if (r.addresses.http1 === '') throw new Error(`${r.target.label}: no AuthZEN listener`);
    // A Redis store may still be applying the seed at first.
    await Promise.all(running.map((r) => untilAnswered(r.addresses, scenario.callerToken, r.target.keycard)));
    if (!smoke) {
      for (const r of running) {
        await runH2load(h2load(r, SINGLE_H1_16, WARM_EVALUATIONS / 2));
        await runH2load(h2load(r, BATCH_H1_4, WARM_EVALUATIONS / 2 / BATCH_SIZE));
      }
    }
    for (const load of plan.loads) {
      const here = running.filter((r) => r.target.loads.includes(load));
      const perRound = new Map<Running, number>();
      const concurrency = load.connections * load.streams;
      for (const r of here) {
        const warmRequests = Math.max(concurrency * (smoke ? 5 : 20), Math.ceil((smoke ? 100 : 3000) / evaluationsPer(load.question)));
        const warm = await runH2load(h2load(r, load, warmRequests));
        perRound.set(r, Math.max(concurrency * 10, Math.round((warm.rps * seconds) / rounds)));
      }
      const tallies = new Map<Running, Tally>(here.map((r) => [r, emptyTally()]));
      for (let round = 0; round < rounds; round++) {
        for (const r of round % 2 === 0 ? here : [...here].reverse()) await measureRound(r, load, perRound.get(r)!, tallies.get(r)!, { ...h2load(r, load, perRound.get(r)!), logFile });
      }
      for (const r of here) {
        await verifyAuthzenAnswers(r.addresses, scenario.callerToken, r.target.keycard);
        const row = toRow(r, load, tallies.get(r)!);
        rows.push(row);
        console.log(
          `${row.target.padEnd(34)} ${authzenLoadName(load).padEnd(30)} ${Math.round(rps(row)).toString().padStart(6)} req/s  p50 ${row.p50.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms  ${row.cpuUsPerRequest.toFixed(0)} µs CPU/req  other load ${row.otherCpuPercent.toFixed(0)}%`,
        );
      }
    }
    for (const r of running) notes.push(`${r.target.label}: RSS ${(treeRssBytes(r.server.pid) / 2 ** 20).toFixed(0)} MiB after its runs`);
  } finally {
    for (const r of running) {
      const code = await r.server.stop();
      if (code !== 0) notes.push(`${r.target.label} (AuthZEN): exited with ${code} on SIGTERM\n${r.server.stderr()}`);
    }
  }
  return { rows, store: running.filter((r) => r.target.keycard).map((r) => r.store), notes, singleBytes: scenario.singleBytes, batchBytes: scenario.batchBytes, seconds };
}

async function untilAnswered(addresses: AuthzenAddresses, token: string, keycard: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await verifyAuthzenAnswers(addresses, token, keycard);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function measureRound(r: Running, load: AuthzenLoad, requests: number, tally: Tally, run: Parameters<typeof measuredRun>[1]): Promise<void> {
  const name = `${r.target.label} ${authzenLoadName(load)}`;
  const { adminUrl, redis } = r.server;
  const countsBefore: AuthzenCounts | undefined = r.target.keycard ? await authzenCounts(adminUrl!) : undefined;
  const commandsBefore = redis ? await redisCommands(redis) : undefined;
  await measuredRun(r.server.pid, run, name, tally);
  if (!countsBefore) return;
  const commandsAfter = redis ? await redisCommands(redis) : undefined;
  const countsAfter = await authzenCounts(adminUrl!);
  // h2load sees HTTP statuses only; keycard's counters say how each question was decided.
  const allowed = load.question === 'single' ? requests : requests * BATCH_ALLOWED;
  verifyAuthzenRound(countsBefore, countsAfter, { requests, allowed, denied: requests * evaluationsPer(load.question) - allowed }, name);
  r.store.evaluations += requests * evaluationsPer(load.question);
  r.store.cacheHits += countsAfter.cacheHits - countsBefore.cacheHits;
  r.store.cacheMisses += countsAfter.cacheMisses - countsBefore.cacheMisses;
  if (commandsBefore && commandsAfter) {
    r.store.redisCommands = (r.store.redisCommands ?? 0) + commandsAfter.total - commandsBefore.total;
    for (const [command, calls] of commandsAfter.byCommand) if (calls !== (commandsBefore.byCommand.get(command) ?? 0)) r.store.commandNames.add(command);
  }
}

function toRow(r: Running, load: AuthzenLoad, tally: Tally): AuthzenRow {
  return {
    target: r.target.label,
    ...(r.target.baseline && { baseline: r.target.baseline }),
    load,
    evaluationsPerRequest: evaluationsPer(load.question),
    requests: tally.requests,
    rpsByRound: tally.rps,
    ...tallyStats(tally),
    serverCpus: r.placement.cpus,
    sharedWithLoad: r.placement.shared,
  };
}
