// The benchmark's result as markdown: the machine, one table row per (target, load) with the
// keycard/bare ratios, the targets, and the micro-benchmarks when their JSON is given.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus as osCpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ColdJwtResult } from './cold-jwt.js';
import { loadName, type Load } from './h2load.js';
import { ROOT } from './paths.js';

export interface Row {
  readonly target: string;
  /** The row this one is compared with at the same load (the bare handler), if any. */
  readonly baseline?: string;
  readonly load: Load;
  readonly requests: number;
  /** rps of each round, in round order (the same rounds for every target of a load). */
  readonly rpsByRound: readonly number[];
  /** Milliseconds. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly cpuUsPerRequest: number;
  /** CPU the rest of the machine used during the runs, in % of one CPU. */
  readonly otherCpuPercent: number;
  /** CPUs the server ran on, and whether h2load shared one of them. */
  readonly serverCpus: readonly number[];
  readonly sharedWithLoad: boolean;
}

export function describeMachine(allowed: readonly number[]): string {
  const model = osCpus()[0]?.model.trim() ?? 'unknown CPU';
  const h2load = execFileSync('h2load', ['--version'], { encoding: 'utf8' }).trim();
  const grpcJs = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@grpc/grpc-js/package.json'), 'utf8')) as { version: string }).version;
  return `${model}, ${allowed.length} CPUs usable (${allowed.join(',')}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}, @grpc/grpc-js ${grpcJs}, ${h2load}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const rps = (row: Row) => median(row.rpsByRound);

/** Median over the rounds of row's rps ÷ other's rps in the same round: robust to drifts in the machine's speed. */
export function rpsRatio(row: Row, other: Row): number {
  return median(row.rpsByRound.map((value, i) => value / other.rpsByRound[i]!));
}

function find(rows: readonly Row[], target: string | undefined, load: Load): Row | undefined {
  return target === undefined ? undefined : rows.find((r) => r.target === target && loadName(r.load) === loadName(load));
}

const ms = (value: number) => (value < 10 ? value.toFixed(3) : value.toFixed(1));
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;

/** The server and the CPUs it ran on. */
export function serverCell(row: Row): string {
  return `${row.target} (CPU ${row.serverCpus.join(',')}${row.sharedWithLoad ? ', shared with h2load' : ''})`;
}

/** The median rps of the rounds and their range. */
export function rpsCell(row: Row): string {
  return `${Math.round(rps(row))} (${Math.round(Math.min(...row.rpsByRound))}–${Math.round(Math.max(...row.rpsByRound))})`;
}

export function latencyCells(row: Row): string[] {
  return [ms(row.p50), ms(row.p90), ms(row.p99), ms(row.p999)];
}

/** Against the row's baseline (dashes for a baseline itself), then the other load; the last cell closes the table row. */
export function comparisonCells(row: Row, base: Row | undefined): string[] {
  return [
    base ? rpsRatio(row, base).toFixed(2) : '—',
    base ? signed(row.p50 - base.p50) : '—',
    base ? (row.cpuUsPerRequest / base.cpuUsPerRequest).toFixed(2) : '—',
    `${row.otherCpuPercent.toFixed(0)}% |`,
  ];
}

export function table(rows: readonly Row[]): string {
  const lines = [
    '| server | conns×streams | rps (range) | p50 ms | p90 ms | p99 ms | p99.9 ms | CPU µs/req | rps ÷ bare | p50 − bare ms | CPU/req ÷ bare | other load |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const base = find(rows, row.baseline, row.load);
    lines.push(
      [`| ${serverCell(row)}`, loadName(row.load), rpsCell(row), ...latencyCells(row), row.cpuUsPerRequest.toFixed(0), ...comparisonCells(row, base)].join(' | '),
    );
  }
  return lines.join('\n');
}

interface MicroBench {
  readonly name: string;
  readonly median: number;
  readonly mean: number;
  readonly p99: number;
}

interface MicroJson {
  readonly files: readonly { readonly groups: readonly { readonly fullName: string; readonly benchmarks: readonly MicroBench[] }[] }[];
}

export interface Micro {
  readonly markdown: string;
  find(group: RegExp, name: RegExp): MicroBench | undefined;
}

/** vitest bench --outputJson → one table: group, benchmark, median, mean and p99 in µs. */
export function microTable(file: string): Micro {
  const json = JSON.parse(readFileSync(file, 'utf8')) as MicroJson;
  const lines = ['| group | benchmark | median µs | mean µs | p99 µs |', '|---|---|---:|---:|---:|'];
  const all: { group: string; bench: MicroBench }[] = [];
  const us = (value: number) => (value * 1000).toFixed(2);
  for (const f of json.files) {
    for (const group of f.groups) {
      const groupName = group.fullName.replace(/^bench\//, '');
      for (const bench of group.benchmarks) {
        all.push({ group: groupName, bench });
        lines.push(`| ${groupName} | ${bench.name} | ${us(bench.median)} | ${us(bench.mean)} | ${us(bench.p99)} |`);
      }
    }
  }
  return { markdown: lines.join('\n'), find: (group, name) => all.find((entry) => group.test(entry.group) && name.test(entry.bench.name))?.bench };
}

export interface TargetNames {
  readonly bare: string;
  readonly keycard: string;
  readonly twoWorkers: string;
}

/** The targets, each with what this run measured. */
export function targets(rows: readonly Row[], names: TargetNames, micro: Micro | undefined, coldJwt: ColdJwtResult | undefined): string {
  const lines = ['| target | measured | met |', '|---|---|---|'];
  const add = (target: string, measured: string, met: boolean | undefined) => lines.push(`| ${target} | ${measured} | ${met === undefined ? '—' : met ? 'yes' : 'no'} |`);
  const pairs = rows.filter((row) => row.target === names.keycard).map((row) => [row, find(rows, names.bare, row.load)] as const);
  const saturating = pairs.filter(([row, bare]) => bare && row.load.connections * row.load.streams > 1);
  if (saturating.length > 0) {
    const ratios = saturating.map(([row, bare]) => `${rpsRatio(row, bare!).toFixed(2)} at ${loadName(row.load)}`);
    add("keycard (warm caches) ≥ 80 % of the bare handler's throughput, one core", ratios.join(', '), saturating.every(([row, bare]) => rpsRatio(row, bare!) >= 0.8));
  }
  const single = pairs.find(([row, bare]) => bare && row.load.connections * row.load.streams === 1);
  if (single) {
    const added = single[0].p50 - single[1]!.p50;
    add('added p50 at 1×1 ≤ 0.1 ms', `${signed(added)} ms (${ms(single[0].p50)} vs ${ms(single[1]!.p50)})`, added <= 0.1);
  }
  for (const row of rows.filter((r) => r.target === names.twoWorkers)) {
    const one = find(rows, names.keycard, row.load);
    if (one) add(`2 workers vs 1 at ${loadName(row.load)}`, `×${rpsRatio(row, one).toFixed(2)} rps (${Math.round(rps(row))} vs ${Math.round(rps(one))})`, undefined);
  }
  const policy = micro?.find(/1000 rules/, /^allow \(indexed\)/);
  if (policy) add('policy evaluation ≤ 20 µs at 1,000 rules', `${(policy.median * 1000).toFixed(2)} µs median`, policy.median * 1000 <= 20);
  const cold = micro?.find(/identity/, /^cold JWT verify through keycard/);
  const raw = micro?.find(/identity/, /^jose's raw jwtVerify/);
  if (coldJwt) {
    add(
      "cold JWT verify ≤ 1.3× jose's raw jwtVerify",
      `×${coldJwt.ratio.toFixed(2)} (${coldJwt.keycardUs.toFixed(1)} vs ${coldJwt.joseUs.toFixed(1)} µs; median of ${coldJwt.rounds} alternating rounds of ${coldJwt.perRound})`,
      coldJwt.ratio <= 1.3,
    );
  } else if (cold && raw) {
    const ratio = cold.median / raw.median;
    add("cold JWT verify ≤ 1.3× jose's raw jwtVerify", `×${ratio.toFixed(2)} (${(cold.median * 1000).toFixed(1)} vs ${(raw.median * 1000).toFixed(1)} µs median)`, ratio <= 1.3);
  }
  return lines.join('\n');
}
