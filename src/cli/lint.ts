import { parseArgs } from 'node:util';
import { loadSettings, policyCompileOptions } from '../config/settings.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { formatLintWarning, lintWarnings } from '../policy/lint-warnings.js';
import { loadPolicySet } from '../policy/load-policies.js';
import { RelationSchema } from '../policy/relations/schema.js';
import { loadSeedFile } from '../state/seed-file.js';
import { configPath } from './usage.js';
import { collectIssues, collectIssuesAsync } from '../config/collect-issues.js';

/** `keycard lint`: 0 when valid (warnings are printed), 1 for warnings with --strict, 2 for errors. */
export async function lintCommand(args: string[]): Promise<number> {
  try {
    return await lint(args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    console.log(`failed: ${error.issues.length} error${error.issues.length === 1 ? '' : 's'}`);
    return 2;
  }
}

/** Validates settings, policies and seed (throws ConfigError listing every problem), then prints warnings. */
export async function lint(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, strict: { type: 'boolean', default: false } } });
  const settings = loadSettings(configPath(values.config));
  const relationSchema = RelationSchema.fromSettings(settings.relations);
  const issues: ConfigIssue[] = [];
  const set = await collectIssuesAsync(issues, () => loadPolicySet(settings.policies.dir, { ...policyCompileOptions(settings), relationSchema }));
  const seedFile = settings.store.seedFile;
  const seed = seedFile ? collectIssues(issues, () => loadSeedFile(seedFile, relationSchema)) : undefined;
  if (!set || issues.length > 0) throw new ConfigError(issues);
  const rules = set.policies.reduce((sum, policy) => sum + policy.rules.length + policy.accessRules.length, 0);
  const warnings = lintWarnings({ policies: set, roleBindings: seed?.roleBindings });
  for (const warning of warnings) console.log(formatLintWarning(warning));
  const failed = values.strict && warnings.length > 0;
  const counted = `${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;
  console.log(`${failed ? 'failed (--strict)' : 'ok'}: ${set.policies.length} policies, ${rules} rules (version ${set.version}); ${counted}`);
  return failed ? 1 : 0;
}

