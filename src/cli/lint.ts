import { parseArgs } from 'node:util';
import { loadSettings } from '../config/settings.js';
import { loadPolicies } from '../policy/load-policies.js';
import { loadSeedFile } from '../state/seed-file.js';
import { configPath } from './usage.js';

/** Validates settings, policies and seed; throws ConfigError listing every problem. */
export function lint(args: string[]): void {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  const settings = loadSettings(configPath(values.config));
  const set = loadPolicies(settings.policies.dir, { issuers: new Set(settings.issuers.map((issuer) => issuer.name)) });
  if (settings.store.seedFile) loadSeedFile(settings.store.seedFile);
  const rules = set.policies.reduce((sum, policy) => sum + policy.rules.length, 0);
  console.log(`ok: ${set.policies.length} policies, ${rules} rules (version ${set.version})`);
}
