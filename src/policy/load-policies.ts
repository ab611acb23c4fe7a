// Loads every *.yaml / *.yml file of the policy directory (except *.test.yaml policy tests) into a
// PolicySet. All problems of all files are collected and reported together; any problem means no new set.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { parseYaml, validate } from '../config/yaml-file.js';
import { compilePolicy, type CompileOptions } from './compile.js';
import { PolicySet } from './policy-set.js';
import { policySchema } from './schema.js';
import type { CompiledPolicy } from './types.js';

/** Policy unit tests (`keycard test`) live beside the policies; they are not policies. */
export const POLICY_TEST_FILE = /\.test\.ya?ml$/;

export function listPolicyFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new ConfigError([{ code: 'file_unreadable', file: dir, message: (error as Error).message }]);
  }
  return names.filter((name) => /\.ya?ml$/.test(name) && !POLICY_TEST_FILE.test(name) && !name.startsWith('.')).sort().map((name) => join(dir, name));
}

export function loadPolicies(dir: string, options: CompileOptions): PolicySet {
  const files = listPolicyFiles(dir);
  const issues: ConfigIssue[] = [];
  const policies: CompiledPolicy[] = [];
  const hash = createHash('sha256');
  for (const file of files) {
    const display = displayPath(file);
    try {
      const text = readFileSync(file, 'utf8');
      hash.update(file).update('\0').update(text).update('\0');
      const { source, value } = parseYaml(display, text);
      policies.push(compilePolicy(validate(source, policySchema, value), source, options));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (files.length === 0) issues.push({ code: 'file_unreadable', file: dir, message: 'the policy directory has no *.yaml files' });
  issues.push(...crossFileIssues(policies));
  if (issues.length > 0) throw new ConfigError(issues);
  return new PolicySet(policies, hash.digest('hex').slice(0, 12));
}

/** Paths in messages: relative to the working directory when inside it, else absolute. */
function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd && !fromCwd.startsWith('..') ? fromCwd : file;
}

function crossFileIssues(policies: readonly CompiledPolicy[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const services = new Map<string, string>();
  const hosts = new Map<string, string>();
  for (const policy of policies) {
    const other = services.get(policy.service);
    if (other) issues.push({ code: 'duplicate_service', file: policy.file, key: 'service', message: `service "${policy.service}" is also defined in ${other}` });
    services.set(policy.service, policy.file);
    for (const host of policy.hosts) {
      const owner = hosts.get(host);
      if (owner) issues.push({ code: 'duplicate_host', file: policy.file, key: 'hosts', message: `host "${host}" is also claimed by service "${owner}"` });
      hosts.set(host, policy.service);
    }
  }
  return issues;
}
