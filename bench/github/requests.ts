// Concrete requests to the GitHub API: an operation's template with its parameters filled in with
// plausible values (octo-org/hello-world, numbers for ids), normalized as the pipeline does.
import { normalizePath } from '../../src/pipeline/normalize.js';
import type { ModelOperation } from './model.js';

export interface ConcreteRequest {
  readonly operation: ModelOperation;
  readonly method: string;
  readonly path: string;
  readonly segments: readonly string[];
}

const SAMPLES: Record<string, string> = {
  owner: 'octo-org',
  org: 'octo-org',
  enterprise: 'octo-enterprise',
  repo: 'hello-world',
  username: 'mona',
  team_slug: 'justice-league',
  ref: 'main',
  branch: 'main',
  path: 'README.md',
  tag: 'v1.0.0',
  name: 'release',
  environment_name: 'production',
  secret_name: 'NPM_TOKEN',
  gist_id: 'aa5a315d61ae9438b18d',
  sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
  commit_sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
};

function sample(name: string): string {
  const known = SAMPLES[name];
  if (known !== undefined) return known;
  if (/(^|_)(id|number)$/.test(name)) return '1296269';
  return `sample-${name.replaceAll('_', '-')}`;
}

export function concreteRequest(operation: ModelOperation): ConcreteRequest {
  const path = operation.path.replace(/\{([^{}]+)\}/g, (_whole, name: string) => sample(name));
  const normalized = normalizePath(path);
  if (!normalized.ok) throw new Error(`${operation.operationId}: ${path} does not normalize: ${normalized.problem}`);
  return { operation, method: operation.method, path: normalized.path, segments: normalized.segments };
}

/** `count` operations spread evenly over the document (every one when count ≥ their number). */
export function spread<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}
