// `make bench-github`: keycard at the scale of GitHub's REST API, in one run. (a) The policy set's
// cold load and hot reload, each cold load in a fresh process, and the API description's cold load
// alone (its share of the whole); (b) `keycard coverage` over it in
// every format, from the built CLI; (c) route matching and policy evaluation per request, in
// process. Every part is checked against the generated rules (oracle.ts) and a wrong answer fails
// the run. Writes a markdown report (bench/results/github-scale.md by default) and prints it.
// Usage: node build/bench/bench/github/run.js [--rounds N] [--load-rounds N] [--eval-rounds N] [--requests N] [--out FILE]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSettings } from '../../src/config/settings.js';
import { loadPolicySet } from '../../src/registry/analysis/load-inputs.js';
import { KEYCARD_CLI, ROOT } from '../load/paths.js';
import { median } from '../load/report.js';
import { checkCoverage, FORMATS, runCoverage, type CoverageCheck, type Format } from './coverage.js';
import { checkDecisions, timeEvaluation, type CheckSummary, type Timing } from './evaluate.js';
import { layout, RESULTS, type GenerationNotes } from './layout.js';
import type { DescriptionLoadResult, LoadResult } from './load-once.js';
import type { PolicyModel } from './model.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    // A cold load takes about a second: more of them make a steadier median on a shared machine.
    'load-rounds': { type: 'string', default: '7' },
    'eval-rounds': { type: 'string', default: '11' },
    requests: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '20' },
    out: { type: 'string', default: RESULTS },
  },
});
const rounds = Number(values.rounds);
const loadRounds = Number(values['load-rounds']);
const files = layout();
for (const needed of [files.model, files.settings, KEYCARD_CLI]) {
  if (!existsSync(needed)) throw new Error(`${relative(ROOT, needed)} is missing: run \`make bench-github\``);
}
const model = JSON.parse(readFileSync(files.model, 'utf8')) as PolicyModel;
const notes = JSON.parse(readFileSync(files.notes, 'utf8')) as GenerationNotes;
const loadAtStart = loadavg()[0]!;

// (a) Cold loads, each in a process of its own: the policy set and the description alone, taking turns.
const LOAD_ONCE = fileURLToPath(new URL('./load-once.js', import.meta.url));
const loadOnce = (args: readonly string[]) =>
  new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', LOAD_ONCE, ...args], { maxBuffer: 1 << 20, timeout: 300_000 }, (error, out, err) =>
      error ? reject(new Error(`load-once failed: ${err}`)) : resolve(out.trim().split('\n').at(-1)!),
    );
  });
const loads: LoadResult[] = [];
const descriptionLoads: DescriptionLoadResult[] = [];
for (let round = 0; round < loadRounds; round++) {
  loads.push(JSON.parse(await loadOnce(['--config', files.settings])) as LoadResult);
  descriptionLoads.push(JSON.parse(await loadOnce(['--description', files.document])) as DescriptionLoadResult);
  console.error(`load ${round + 1}/${loadRounds}: cold ${loads.at(-1)!.coldMs.toFixed(0)} ms, the description alone ${descriptionLoads.at(-1)!.coldMs.toFixed(0)} ms`);
}

// (b) keycard coverage, the formats taking turns in each round.
const coverageRuns: { format: Format; wallMs: number; maxRssMiB: number; outputBytes: number }[] = [];
let coverageCheck: CoverageCheck | undefined;
for (let round = 0; round < rounds; round++) {
  for (const format of round % 2 === 0 ? FORMATS : [...FORMATS].reverse()) {
    const run = await runCoverage(files.settings, format);
    if (format === 'json' && coverageCheck === undefined) coverageCheck = checkCoverage(run.stdout, model);
    coverageRuns.push({ format, wallMs: run.wallMs, maxRssMiB: run.maxRssMiB, outputBytes: Buffer.byteLength(run.stdout) });
    console.error(`coverage ${format} ${round + 1}/${rounds}: ${(run.wallMs / 1000).toFixed(2)} s`);
  }
}

// (c) Evaluation, in process.
const settings = loadSettings(files.settings);
const set = await loadPolicySet(settings.policies.dir, settings);
const policy = set.policies.find((entry) => entry.service === model.service);
if (!policy) throw new Error(`no policy for service ${model.service}`);
const checked = await checkDecisions(policy, model);
console.error(`checked ${checked.evaluations} decisions against the generated rules`);
const timingOptions = { requests: Number(values.requests), rounds: Number(values['eval-rounds']), repeat: Number(values.repeat) };
const timings: Timing[] = [];
for (const kind of ['allowed', 'denied', 'allowed, linear scan'] as const) {
  timings.push(await timeEvaluation(policy, model, kind, timingOptions));
  console.error(`evaluation (${kind}): ${timings.at(-1)!.meanUs.toFixed(2)} µs mean`);
}

const report = render();
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, report);
console.log(report);

function render(): string {
  const cold = median(loads.map((load) => load.coldMs));
  const described = median(descriptionLoads.map((load) => load.coldMs));
  const warm = median(loads.map((load) => median(load.warmMs)));
  const first = loads[0]!;
  const rules = first.rules;
  const format = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
  const range = (items: readonly number[]) => `${format(Math.min(...items))}–${format(Math.max(...items))}`;
  const evalRows = timings.map((timing) => {
    const target = timing.label.includes('linear') ? '(comparison)' : timing.p99Us <= 20 ? 'yes' : 'no';
    return `| ${timing.label} | ${timing.requests} | ${timing.meanUs.toFixed(2)} | ${timing.p50Us.toFixed(2)} | ${timing.p99Us.toFixed(2)} | ${timing.maxUs.toFixed(2)} (${timing.slowest}) | ${timing.candidatesMean.toFixed(0)} / ${timing.candidatesMax} | ${target} |`;
  });
  const coverageRows = FORMATS.map((name) => {
    const runs = coverageRuns.filter((run) => run.format === name);
    const walls = runs.map((run) => run.wallMs);
    return `| ${name} | ${(median(walls) / 1000).toFixed(2)} | ${(Math.min(...walls) / 1000).toFixed(2)}–${(Math.max(...walls) / 1000).toFixed(2)} | ${median(runs.map((run) => run.maxRssMiB)).toFixed(0)} | ${(runs[0]!.outputBytes / 1024).toFixed(0)} KiB |`;
  });
  const coverageMedian = median(coverageRuns.map((run) => run.wallMs)) / 1000;
  const allowed = timings.find((timing) => timing.label === 'allowed')!;
  const denied = timings.find((timing) => timing.label === 'denied')!;
  const check = coverageCheck!;
  return [
    '# keycard at the scale of the GitHub REST API',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version} · load average ${loadAtStart.toFixed(2)} at the start (a shared machine: compare rows of one run, not runs)`,
    '',
    `Made by \`make bench-github\` (bench/github/). The API: ${notes.source}, ${notes.sourceOperations} operations on ${notes.sourcePaths} paths, ${(notes.sourceBytes / 2 ** 20).toFixed(1)} MiB. keycard reads a copy (${(notes.documentBytes / 2 ** 20).toFixed(1)} MiB) with ${notesText(notes)}, so ${model.operations.length} operations. The policy: ${rules} rules — one per operation (\`match.operations\`, role \`<tag>-reader\`/\`<tag>-writer\` by its first tag), ${model.maintain.length} by permission (\`match.permissions\` over \`x-keycard-permission: github.<tag>.read|write\`, role \`<tag>-maintainer\`), one admin rule over all ${model.admin.permissions.length} permissions, and a deny rule first (\`repos/delete\` unless \`${model.deny.unlessRole}\`). The seed binds ${model.bindings.length} roles.`,
    '',
    '## Targets (issue 10)',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    `| the policy set loads in well under a second | cold ${format(cold)} ms (parse + validate the document, compile); hot reload ${format(warm)} ms | ${wellUnder(cold)} (cold), ${wellUnder(warm)} (reload) |`,
    `| \`keycard coverage\` runs in seconds | ${coverageMedian.toFixed(2)} s (median over formats and rounds) | ${coverageMedian < 10 ? 'yes' : 'no'} |`,
    `| policy evaluation ≤ 20 µs at 1,000 rules (${rules} here) | allowed: mean ${allowed.meanUs.toFixed(2)} µs, p99 ${allowed.p99Us.toFixed(2)} µs; denied: mean ${denied.meanUs.toFixed(2)} µs, p99 ${denied.p99Us.toFixed(2)} µs | ${Math.max(allowed.p99Us, denied.p99Us) <= 20 ? 'yes' : 'no'} |`,
    '',
    `## Policy set load (${loads.length} cold starts, each in a fresh process)`,
    '',
    '| measure | median | range |',
    '|---|---:|---:|',
    `| cold load: read, parse and validate the document, resolve ${model.operations.length} operations, compile ${rules} rules | ${format(cold)} ms | ${range(loads.map((load) => load.coldMs))} |`,
    `| of which the API description alone: read, parse and validate, resolve the operations (${descriptionLoads.length} more fresh processes) | ${format(described)} ms | ${range(descriptionLoads.map((load) => load.coldMs))} |`,
    `| CPU time of the cold load (main thread and V8's helper threads) | ${format(median(loads.map((load) => load.cpuMs)))} ms | ${range(loads.map((load) => load.cpuMs))} |`,
    `| hot reload, document unchanged (re-hashed, not re-parsed) | ${format(warm)} ms | ${range(loads.flatMap((load) => load.warmMs))} |`,
    `| peak RSS of the process (cold load) | ${median(loads.map((load) => load.maxRssMiB)).toFixed(0)} MiB | ${range(loads.map((load) => load.maxRssMiB))} |`,
    `| heap held once loaded (after a full GC) | ${median(loads.map((load) => load.retainedHeapMiB)).toFixed(1)} MiB | |`,
    '',
    "The description is read once (`JSON.parse`) and validated by @readme/openapi-parser in one `validate` call, which also dereferences it for keycard; `$ref`s to whole component schemas (from inside schemas, and from schema slots the parser's array-items check passes) and to component examples are left unexpanded while it validates (src/registry/unexpanded-refs.ts), so each is checked once where it is defined. The rest of the cold load is the policy file: parsing its YAML (with positions, for error messages) and compiling the rules.",
    '',
    `## \`keycard coverage\` (built CLI, wall time from spawn to exit, ${rounds} rounds, formats taking turns)`,
    '',
    '| format | median s | range s | peak RSS MiB | output |',
    '|---|---:|---:|---:|---:|',
    ...coverageRows,
    '',
    `Checked: ${check.operations} operations × ${check.callers.length} caller classes (${check.callers.join(', ')}) = ${check.verdicts} verdicts, each as the generated rules say (${Object.entries(check.decisions).map(([decision, count]) => `${count} ${decision}`).join(', ')}); no \`operation_unreachable\`, ${check.errors} errors; warnings: ${warningsText(check.warnings)}.`,
    '',
    `## Route matching and policy evaluation (in process, ${timingOptions.requests} operations' concrete requests)`,
    '',
    `\`evaluatePolicy\` per request, normalized segments given (as in bench/policy-eval.bench.ts). Each request is evaluated ${timingOptions.repeat} times in a row and timed together; ${timingOptions.rounds} rounds after a warm-up. "mean" is the median over rounds of the round's mean (garbage collection pauses included); p50/p99/max are over the requests, of each request's median over the rounds (pauses mostly left out). "allowed": the caller holds the role its operation's rule asks for; "denied": an unrelated role, so every candidate is tried. Candidates: the rules the index hands over (rules bound to operations only for the operation the request is; the linear scan hands over every rule, as without the index).`,
    '',
    '| callers | requests | mean µs | p50 µs | p99 µs | max µs (request) | candidates mean / max | ≤ 20 µs |',
    '|---|---:|---:|---:|---:|---|---:|---|',
    ...evalRows,
    '',
    `Checked first: every operation's concrete request × 7 callers (anonymous, no roles, the tag's reader, writer and maintainer, another tag's maintainer, admin), plus for the requests another operation's template also fits a caller with that operation's roles only: ${checked.evaluations} decisions, each with the reason and deciding rule the generated rules give (${reasonsText(checked)}). ${checked.ambiguous} of the requests fit more than one operation's template (e.g. \`GET /user/repos\` and \`GET /user/{account_id}\`): the rule of the concrete one must decide.`,
    '',
  ].join('\n');
}

/** "Well under a second" read as at most half of one; under a second but not well under is said so. */
function wellUnder(ms: number): string {
  if (ms <= 500) return 'yes';
  return ms < 1000 ? 'not well under (under a second)' : 'no';
}

function notesText(notes: GenerationNotes): string {
  const parts = [
    ...notes.renamed.map(([from, to]) => `the path parameter {${from}} renamed {${to}} (keycard templates bind [A-Za-z_][A-Za-z0-9_]* names)`),
    ...notes.dropped.map((entry) => `${entry.operationId} (${entry.path}) left out (${entry.why})`),
  ];
  return parts.length === 0 ? 'no changes' : parts.join(', ');
}

function warningsText(codes: readonly string[]): string {
  if (codes.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts].map(([code, count]) => `${count} \`${code}\``).join(', ');
}

function reasonsText(summary: CheckSummary): string {
  return Object.entries(summary.byReason).map(([reason, count]) => `${count} ${reason}`).join(', ');
}
