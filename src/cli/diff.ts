// `keycard diff --from OLD_DIR --to NEW_DIR`: the static access diff of two policy directories
// over the endpoint registry (each side's own API descriptions), with the settings and role
// bindings of --config. Exit 1 while a lost access (under an enforced policy) is not acknowledged
// by --accept FILE or --accept-loss SERVICE:OPERATION:CALLER; 2 on errors.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings, type Settings } from '../config/settings.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { PolicySet } from '../policy/policy-set.js';
import { parseAcceptLoss, readAcceptFile, type Acceptance } from '../registry/analysis/accept.js';
import type { ServiceDiffInput } from '../registry/analysis/access-diff.js';
import { rolesForService } from '../registry/analysis/caller-class.js';
import { diffExitCode, diffReport } from '../registry/analysis/diff-report.js';
import { diffJson, diffMarkdown, diffText } from '../registry/analysis/diff-text.js';
import { apiOf, loadPolicySet, readRoleBindings } from '../registry/analysis/load-inputs.js';
import { reportFormat, reportStoreErrors } from './coverage.js';
import { exitTwoOnConfigError } from './offline-keycard.js';
import { configPath, UsageError } from './usage.js';
import { collectIssues, collectIssuesAsync } from '../config/collect-issues.js';

export async function diffCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      config: { type: 'string' },
      accept: { type: 'string', multiple: true, default: [] },
      'accept-loss': { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'text' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`diff takes no arguments (got "${positionals[0]}")`);
  if (!values.from) throw new UsageError('diff needs --from DIR (the current policy directory)');
  if (!values.to) throw new UsageError('diff needs --to DIR (the candidate policy directory)');
  const format = reportFormat(values.format);
  const fromCli = values['accept-loss'].map((text) => {
    const entry = parseAcceptLoss(text);
    if (!entry) throw new UsageError(`--accept-loss "${text}" is not SERVICE:OPERATION:CALLER (CALLER: anonymous, authenticated or role:NAME)`);
    return entry;
  });
  const { from, to } = values;
  return exitTwoOnConfigError(() => reportStoreErrors('diff', async () => {
    const settings = loadSettings(configPath(values.config));
    const issues: ConfigIssue[] = [];
    const acceptances: Acceptance[] = [...values.accept.flatMap((file) => collectIssues(issues, () => readAcceptFile(file)) ?? []), ...fromCli];
    const [before, after] = [await collectIssuesAsync(issues, () => load(from, settings)), await collectIssuesAsync(issues, () => load(to, settings))];
    if (!before || !after || issues.length > 0) throw new ConfigError(issues);
    const bindings = await readRoleBindings(settings);
    const report = await diffReport({ from, to }, diffInputs(before, after, bindings), acceptances);
    if (format === 'json') console.log(JSON.stringify(diffJson(report), null, 2));
    else console.log(format === 'markdown' ? diffMarkdown(report) : diffText(report));
    return diffExitCode(report);
  }));
}

function load(dir: string, settings: Settings): Promise<PolicySet> {
  return loadPolicySet(resolve(dir), settings);
}

/** Services with an API description on either side. */
function diffInputs(before: PolicySet, after: PolicySet, bindings: Parameters<typeof rolesForService>[0]): ServiceDiffInput[] {
  const services = new Set([...before.policies, ...after.policies].filter((policy) => apiOf(policy) !== undefined).map((policy) => policy.service));
  return [...services].map((service) => {
    const old = before.route(service, '');
    const next = after.route(service, '');
    return {
      service,
      from: { policy: old, api: old && apiOf(old) },
      to: { policy: next, api: next && apiOf(next) },
      roles: rolesForService(bindings, service),
    };
  });
}

