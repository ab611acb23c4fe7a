// Loads every *.yaml / *.yml file of the policy directory (except *.test.yaml policy tests and the
// API descriptions policies name) into a PolicySet. All problems of all files are collected and
// reported together; any problem means no new set. loadPolicySet also loads the API descriptions
// (`api: { openapi: FILE }`), which is asynchronous; loadPolicies is the synchronous loader for
// policies without one.
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { parseYaml, validate, type YamlSource } from '../config/yaml-file.js';
import { ApiDescriptionCache } from '../registry/api-cache.js';
import { ApiDescriptionError } from '../registry/openapi.js';
import type { ApiDescription } from '../registry/types.js';
import { apiDocumentPath, declaredApiDocument } from './api-reference.js';
import { compilePolicy, type CompileOptions } from './compile.js';
import { displayPath } from './display-path.js';
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

export interface PolicySetOptions extends CompileOptions {
  /** Keeps loaded API descriptions between loads (a hot reload re-parses changed documents only). */
  readonly apiCache?: ApiDescriptionCache;
  /** Told, after every load that got as far as the descriptions, every file they were read from. */
  readonly onApiFiles?: (files: readonly string[]) => void;
}

/** Synchronous: a policy with `api:` is a load error here (use loadPolicySet). */
export function loadPolicies(dir: string, options: CompileOptions): PolicySet {
  return compileSet(readPolicyFiles(dir), { ...options, apiDescriptions: undefined });
}

/** Loads the policies and the API descriptions they name (each document once). */
export async function loadPolicySet(dir: string, options: PolicySetOptions): Promise<PolicySet> {
  const read = readPolicyFiles(dir);
  const cache = options.apiCache ?? new ApiDescriptionCache();
  const descriptions = new Map<string, ApiDescription | null>();
  const files = new Set<string>();
  for (const path of read.documents) {
    try {
      const loaded = await cache.load(path);
      descriptions.set(path, loaded.description);
      for (const file of loaded.files.keys()) files.add(file);
      read.versionParts.push(`api\0${relative(resolve(dir), path)}\0${loaded.hash}`);
    } catch (error) {
      if (!(error instanceof ApiDescriptionError)) throw error;
      descriptions.set(path, null);
      for (const file of error.files) files.add(file);
      read.documentIssues.set(path, error.issues);
    }
  }
  cache.retain(read.documents);
  options.onApiFiles?.([...files]);
  return compileSet(read, { ...options, apiDescriptions: descriptions });
}

interface PolicyFile {
  /** As listed (the policy directory joined with the name). */
  readonly file: string;
  /** Parsed, or undefined with the parse problems in `issues`. */
  readonly parsed: { readonly source: YamlSource; readonly value: unknown } | undefined;
  readonly issues: readonly ConfigIssue[];
  /** The API description it names (absolute path). */
  readonly document: string | undefined;
}

interface ReadResult {
  readonly files: readonly PolicyFile[];
  readonly emptyDir: ConfigIssue | undefined;
  /** Absolute paths of the API descriptions the policies name, in order of first mention. */
  readonly documents: ReadonlySet<string>;
  /** The problems of each description that failed to load. */
  readonly documentIssues: Map<string, readonly ConfigIssue[]>;
  readonly hash: Hash;
  /** Added to the version after the policy files: the API descriptions' content. */
  readonly versionParts: string[];
}

/** Reads and parses every policy file; a file that a policy names as its API description is not a policy. */
function readPolicyFiles(dir: string): ReadResult {
  const listed = listPolicyFiles(dir);
  const hash = createHash('sha256');
  const files: PolicyFile[] = [];
  const documents = new Set<string>();
  for (const file of listed) {
    try {
      const text = readFileSync(file, 'utf8');
      hash.update(file).update('\0').update(text).update('\0');
      const parsed = parseYaml(displayPath(file), text);
      const openapi = declaredApiDocument(parsed.value);
      const document = openapi === undefined ? undefined : apiDocumentPath(file, openapi);
      if (document !== undefined) documents.add(document);
      files.push({ file, parsed, issues: [], document });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      files.push({ file, parsed: undefined, issues: error.issues, document: undefined });
    }
  }
  const emptyDir: ConfigIssue | undefined =
    listed.length === 0 ? { code: 'file_unreadable', file: dir, message: 'the policy directory has no *.yaml files' } : undefined;
  return { files: files.filter(({ file }) => !documents.has(resolve(file))), emptyDir, documents, documentIssues: new Map(), hash, versionParts: [] };
}

/** Compiles the files in order; a description's problems come just before those of the first policy naming it. */
function compileSet(read: ReadResult, options: CompileOptions): PolicySet {
  const issues: ConfigIssue[] = [];
  const policies: CompiledPolicy[] = [];
  for (const { parsed, issues: parseIssues, document } of read.files) {
    issues.push(...parseIssues);
    if (!parsed) continue;
    if (document !== undefined) {
      issues.push(...(read.documentIssues.get(document) ?? []));
      read.documentIssues.delete(document);
    }
    try {
      policies.push(compilePolicy(validate(parsed.source, policySchema, parsed.value), parsed.source, options));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  // Descriptions named only by files that are themselves descriptions: still problems.
  for (const rest of read.documentIssues.values()) issues.push(...rest);
  if (read.emptyDir) issues.push(read.emptyDir);
  issues.push(...crossFileIssues(policies));
  if (issues.length > 0) throw new ConfigError(issues);
  for (const part of read.versionParts) read.hash.update(part).update('\0');
  return new PolicySet(policies, read.hash.digest('hex').slice(0, 12));
}

function crossFileIssues(policies: readonly CompiledPolicy[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const services = new Map<string, string>();
  const hosts = new Map<string, string>();
  const resourceTypes = new Map<string, CompiledPolicy>();
  for (const policy of policies) {
    for (const type of policy.resourceTypes) {
      const owner = resourceTypes.get(type);
      if (owner) {
        const rule = policy.accessRules.find((candidate) => candidate.access?.resources.includes(type));
        issues.push({
          code: 'duplicate_resource_type',
          file: policy.file,
          ...(rule && { line: rule.location.line, key: `rules[${rule.index}].match.resources` }),
          message: `resource type "${type}" is also named by the access rules of ${owner.file} (service "${owner.service}"): each resource type belongs to one policy`,
        });
      } else resourceTypes.set(type, policy);
    }
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
