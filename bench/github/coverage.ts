// `keycard coverage` over the GitHub policy set, as an operator runs it: the built CLI in a process
// of its own, timed from spawn to exit, in each output format. The JSON report is checked against
// the oracle: no operation unreachable, no error finding, and every verdict as the generated rules
// say (the checks fail the run).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KEYCARD_CLI } from '../load/paths.js';
import type { PolicyModel } from './model.js';
import { Oracle } from './oracle.js';

export const FORMATS = ['text', 'json', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export interface CoverageRun {
  readonly format: Format;
  readonly wallMs: number;
  readonly maxRssMiB: number;
  readonly exitCode: number;
  readonly stdout: string;
}

const PEAK_RSS = fileURLToPath(new URL('./peak-rss.js', import.meta.url));

export async function runCoverage(settings: string, format: Format): Promise<CoverageRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'keycard-coverage-'));
  const rssFile = join(scratch, 'rss');
  try {
    const started = performance.now();
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', PEAK_RSS, KEYCARD_CLI, 'coverage', '--config', settings, '--format', format],
        { env: { ...process.env, BENCH_PEAK_RSS_FILE: rssFile }, maxBuffer: 512 * 1024 * 1024, timeout: 300_000 },
        (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: out, stderr: err }),
      );
    });
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`keycard coverage --format ${format} exited ${code}:\n${stderr.slice(0, 4000)}\n${stdout.slice(-4000)}`);
    return { format, wallMs, maxRssMiB: Number(readFileSync(rssFile, 'utf8')) / 1024, exitCode: code, stdout };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface CoverageJson {
  readonly services: readonly {
    readonly service: string;
    readonly callers: readonly string[];
    readonly operations: readonly { readonly operationId: string | null; readonly verdicts: readonly { readonly caller: string; readonly decision: string }[] }[];
  }[];
  readonly findings: readonly { readonly code: string; readonly severity: string; readonly message: string }[];
  readonly summary: { readonly operations: number; readonly errors: number; readonly warnings: number };
}

export interface CoverageCheck {
  readonly operations: number;
  readonly callers: readonly string[];
  readonly verdicts: number;
  readonly decisions: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly warnings: readonly string[];
}

/** Checks the JSON report against the model; throws with the first disagreements. */
export function checkCoverage(json: string, model: PolicyModel): CoverageCheck {
  const report = JSON.parse(json) as CoverageJson;
  const problems: string[] = [];
  const unreachable = report.findings.filter((finding) => finding.code === 'operation_unreachable');
  for (const finding of unreachable) problems.push(`operation_unreachable: ${finding.message}`);
  for (const finding of report.findings.filter((entry) => entry.severity === 'error' && entry.code !== 'operation_unreachable')) problems.push(`${finding.code}: ${finding.message}`);
  const service = report.services.find((entry) => entry.service === model.service);
  if (!service) throw new Error(`the coverage report has no service ${model.service}`);
  if (service.operations.length !== model.operations.length) problems.push(`${service.operations.length} operations reported, the policy covers ${model.operations.length}`);
  const oracle = new Oracle(model);
  const byId = new Map(model.operations.map((operation) => [operation.operationId, operation]));
  const decisions: Record<string, number> = {};
  let verdicts = 0;
  for (const entry of service.operations) {
    const operation = entry.operationId === null ? undefined : byId.get(entry.operationId);
    if (!operation) {
      problems.push(`operation ${entry.operationId} is not one the generator covered`);
      continue;
    }
    for (const verdict of entry.verdicts) {
      verdicts++;
      decisions[verdict.decision] = (decisions[verdict.decision] ?? 0) + 1;
      const role = verdict.caller.startsWith('role:') ? verdict.caller.slice('role:'.length) : undefined;
      const want = oracle.coverageDecision(operation, role);
      if (verdict.decision !== want) problems.push(`${operation.operationId} for ${verdict.caller}: coverage says ${verdict.decision}, the rules say ${want}`);
    }
  }
  if (problems.length > 0) throw new Error(`keycard coverage disagrees with the generated policy (${problems.length}):\n  ${problems.slice(0, 20).join('\n  ')}`);
  return {
    operations: service.operations.length,
    callers: service.callers,
    verdicts,
    decisions,
    errors: report.summary.errors,
    warnings: report.findings.filter((finding) => finding.severity === 'warning').map((finding) => finding.code),
  };
}
