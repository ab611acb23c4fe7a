// Where the GitHub-scale benchmark reads and writes: the generated policy set under build/github/
// (never committed: it is made from the benchmark-only @octokit/openapi package), the result
// table in bench/results/.
import { join } from 'node:path';
import { ROOT } from '../load/paths.js';

export interface Layout {
  readonly dir: string;
  /** The patched copy of the API description. */
  readonly document: string;
  readonly policies: string;
  readonly policy: string;
  readonly seed: string;
  readonly settings: string;
  /** The PolicyModel as JSON, for the measuring script. */
  readonly model: string;
  /** GenerationNotes as JSON: what the copy of the document changed. */
  readonly notes: string;
}

export interface GenerationNotes {
  /** The package document's title and version. */
  readonly source: string;
  readonly sourceOperations: number;
  readonly sourcePaths: number;
  readonly sourceBytes: number;
  readonly documentBytes: number;
  readonly renamed: readonly (readonly [string, string])[];
  readonly dropped: readonly { readonly operationId: string; readonly path: string; readonly why: string }[];
}

export function layout(dir = join(ROOT, 'build', 'github')): Layout {
  return {
    dir,
    document: join(dir, 'api', 'github.json'),
    policies: join(dir, 'policies'),
    policy: join(dir, 'policies', 'github.yaml'),
    seed: join(dir, 'seed.yaml'),
    settings: join(dir, 'keycard.yaml'),
    model: join(dir, 'model.json'),
    notes: join(dir, 'notes.json'),
  };
}

/** The document inside the installed @octokit/openapi package (`make bench-github` installs it). */
export const OCTOKIT_DOCUMENT = join(ROOT, 'build', 'octokit', 'node_modules', '@octokit', 'openapi', 'generated', 'api.github.com.json');
export const RESULTS = join(ROOT, 'bench', 'results', 'github-scale.md');
