// `keycard test [DIR|FILE...]`: runs the policy unit tests (`*.test.yaml`, by default beside the
// configured policies) against the configured policies. Exit 0 when every case passes, 1 when a
// case fails, 2 when a file (settings, policies or a test file) is invalid.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatConfigIssue, type ConfigIssue } from '../errors.js';
import { POLICY_TEST_FILE } from '../policy/load-policies.js';
import { loadTestFile } from '../policy-test/test-file.js';
import { actual, runTestFile, type CaseResult, type FileResult, type TestEnvironment } from '../policy-test/run.js';
import { relationChecker } from '../policy/relations/resolver.js';
import { storeFromSeed } from '../state/create-store.js';
import { explainDecision } from './explain.js';
import { exitTwoOnConfigError, openKeycard, type OfflineKeycard } from './offline-keycard.js';
import { configPath, UsageError } from './usage.js';

export async function testCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, format: { type: 'string', default: 'text' } },
  });
  const format = values.format;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format: "${format}" is not text or json`);
  return exitTwoOnConfigError(async () => {
    const opened = await openKeycard(configPath(values.config));
    try {
      const files = findTestFiles(positionals.length > 0 ? positionals : [opened.settings.policies.dir]);
      const report = await runAll(files, opened);
      console.log(format === 'json' ? JSON.stringify(jsonReport(report), null, 2) : textReport(report).join('\n'));
      return report.invalid > 0 ? 2 : report.failed > 0 ? 1 : 0;
    } finally {
      await opened.close();
    }
  });
}

/** A file that ran, or one whose problems kept it from running (the other files still run). */
type FileOutcome = FileResult | { readonly file: string; readonly issues: readonly ConfigIssue[] };

interface Report {
  readonly files: readonly FileOutcome[];
  readonly passed: number;
  readonly failed: number;
  readonly invalid: number;
}

/** The `*.test.yaml` files of each directory (not recursive), and each file named directly. */
function findTestFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      throw new ConfigError([{ code: 'file_unreadable', file: path, message: (error as Error).message }]);
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    const found = readdirSync(path).filter((name) => POLICY_TEST_FILE.test(name) && !name.startsWith('.')).sort();
    if (found.length === 0) throw new ConfigError([{ code: 'file_unreadable', file: path, message: 'the directory has no *.test.yaml files' }]);
    files.push(...found.map((name) => join(path, name)));
  }
  return [...new Set(files)];
}

async function runAll(files: readonly string[], opened: OfflineKeycard): Promise<Report> {
  const { keycard, policies, relationSchema, deps, issuers } = opened;
  const environment: TestEnvironment = {
    deps,
    state(seed) {
      if (!seed) return { store: keycard.store, relations: keycard.relations, close: async () => undefined };
      // A file's own state replaces the configured store's, tuples included.
      const store = storeFromSeed(seed);
      return { store, relations: relationChecker(store, relationSchema), close: () => store.close() };
    },
  };
  const outcomes: FileOutcome[] = [];
  for (const file of files) {
    const display = displayPath(file);
    try {
      outcomes.push(await runTestFile(loadTestFile(file, { policies, issuers, relations: relationSchema }, display), environment));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      outcomes.push({ file: display, issues: error.issues });
    }
  }
  const all = outcomes.flatMap((outcome) => ('cases' in outcome ? outcome.cases : []));
  const passed = all.filter((result) => result.passed).length;
  return { files: outcomes, passed, failed: all.length - passed, invalid: outcomes.filter((outcome) => 'issues' in outcome).length };
}

function textReport(report: Report): string[] {
  const lines: string[] = [];
  for (const file of report.files) {
    lines.push(file.file);
    if ('issues' in file) {
      lines.push(...file.issues.map((issue) => `  error: ${formatConfigIssue(issue)}`));
      continue;
    }
    for (const result of file.cases) {
      if (result.passed) {
        lines.push(`  ✓ ${result.case.name}`);
        continue;
      }
      lines.push(`  ✗ ${result.case.name} (${file.file}:${result.case.line})`);
      lines.push(...failureLines(result).map((line) => `      ${line}`));
    }
  }
  // Alone on the last line, in this form, for CI parsers.
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines;
}

function failureLines(result: CaseResult): string[] {
  const width = Math.max(...result.mismatches.map((mismatch) => mismatch.field.length));
  const lines = result.mismatches.map(
    (mismatch) => `${`${mismatch.field}:`.padEnd(width + 1)} expected ${show(mismatch.expected)}, got ${show(mismatch.got)}`,
  );
  lines.push('how keycard decided:');
  const rolesFrom = result.case.caller.roles ? 'given' : 'store';
  const { access } = result.case;
  const explained = access
    ? { path: access.resource.id, access: { action: access.action.name, resourceType: access.resource.type }, ...(typeof access.resource.properties?.service === 'string' && { service: access.resource.properties.service }) }
    : result.case.request!;
  lines.push(...explainDecision(result.decision, explained, { rolesFrom }).map((line) => `  ${line}`));
  return lines;
}

function show(value: unknown): string {
  if (value === null) return '(none)';
  if (Array.isArray(value)) return `[${value.map((item) => String(item)).join(', ')}]`;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function jsonReport(report: Report) {
  return {
    files: report.files.map((file) =>
      'issues' in file
        ? { file: file.file, errors: file.issues }
        : {
            file: file.file,
            cases: file.cases.map((result) => ({
              name: result.case.name,
              line: result.case.line,
              passed: result.passed,
              mismatches: result.mismatches,
              got: { ...actual(result.decision), service: result.decision.service ?? null, roles: result.decision.roles },
              explanation: result.decision.trace,
              detail: result.decision.detail,
            })),
          },
    ),
    passed: report.passed,
    failed: report.failed,
    invalid: report.invalid,
  };
}

/** Paths in messages: relative to the working directory when inside it, else as given. */
function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd && !fromCwd.startsWith('..') ? fromCwd : file;
}
