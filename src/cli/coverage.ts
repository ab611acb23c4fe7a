// `keycard coverage`: every operation of every service with an API description, against its
// policy, for anonymous callers, authenticated callers without roles and each role the store
// binds for the service; then the findings. Exit 0 clean, 1 warnings with --strict, 2 errors
// (findings of severity error, or invalid settings, policies or API descriptions).
import { parseArgs } from 'node:util';
import { loadSettings } from '../config/settings.js';
import { rolesForService } from '../registry/analysis/caller-class.js';
import { coverageJson } from '../registry/analysis/coverage-json.js';
import { coverageMarkdown } from '../registry/analysis/coverage-markdown.js';
import { coverageExitCode, coverageReport, type CoverageInput } from '../registry/analysis/coverage-report.js';
import { coverageText } from '../registry/analysis/coverage-text.js';
import { apiOf, loadPolicySet, readRoleBindings, StoreReadError } from '../registry/analysis/load-inputs.js';
import { exitTwoOnConfigError } from './offline-keycard.js';
import { configPath, UsageError } from './usage.js';

export type ReportFormat = 'text' | 'json' | 'markdown';

export function reportFormat(format: string): ReportFormat {
  if (format !== 'text' && format !== 'json' && format !== 'markdown') throw new UsageError(`--format: "${format}" is not text, json or markdown`);
  return format;
}

export async function coverageCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      service: { type: 'string' },
      format: { type: 'string', default: 'text' },
      strict: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`coverage takes no arguments (got "${positionals[0]}")`);
  const format = reportFormat(values.format);
  return exitTwoOnConfigError(() => reportStoreErrors('coverage', async () => {
    const settings = loadSettings(configPath(values.config));
    const set = await loadPolicySet(settings.policies.dir, settings);
    const wanted = values.service;
    const policies = wanted === undefined ? set.policies : set.policies.filter((policy) => policy.service === wanted);
    if (wanted !== undefined && policies.length === 0) return fail(`no policy in ${settings.policies.dir} serves service "${wanted}"`);
    const described = policies.filter((policy) => apiOf(policy) !== undefined);
    if (wanted !== undefined && described.length === 0) return fail(`service "${wanted}" has no API description (api.openapi in ${policies[0]!.file})`);
    const bindings = await readRoleBindings(settings);
    const inputs: CoverageInput[] = described.map((policy) => ({ policy, api: apiOf(policy)!, roles: rolesForService(bindings, policy.service) }));
    const report = await coverageReport(inputs);
    if (format === 'json') console.log(JSON.stringify(coverageJson(report), null, 2));
    else console.log(format === 'markdown' ? coverageMarkdown(report) : coverageText(report));
    return coverageExitCode(report, values.strict);
  }));
}

/** A store that cannot be read is an error (exit 2) with one line, like a config error. */
export async function reportStoreErrors(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof StoreReadError)) throw error;
    console.error(`keycard ${command}: ${error.message}`);
    return 2;
  }
}

function fail(message: string): number {
  console.error(`keycard coverage: ${message}`);
  return 2;
}
