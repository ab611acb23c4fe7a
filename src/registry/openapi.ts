// Loads a service's API description (OpenAPI 3.0 or 3.1, YAML or JSON) into the endpoint registry
// model. @readme/openapi-parser resolves the `$ref`s (local files only, see local-files.ts) and
// validates the document; keycard only reads the result. Every problem becomes a located
// ConfigError issue: the file, line and column as written, and the JSON pointer of the place.
// A valid single-file document is read and validated in one pass (one-pass.ts); any other, and
// any document that pass does not vouch for, takes the thorough path below, which dereferences
// first (to check the version and size before validating) and locates every problem.
import { asJsonObject as asObject } from '../json-object.js';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { dereference, MissingPointerError, validate, type ParserOptions, type ValidationResult } from '@readme/openapi-parser';
import { isMap } from 'yaml';
import { ConfigError, type ConfigErrorCode, type ConfigIssue } from '../errors.js';
import { displayPath } from '../policy/display-path.js';
import { expandedSize, MAX_NODES } from './expansion.js';
import { LocalFiles, type ReadFailure } from './local-files.js';
import { findRef, locate, splitRef } from './locate.js';
import { validateInOnePass } from './one-pass.js';
import { operationsOf, type Problem } from './operations.js';
import { pointerOfSpecMessage } from './spec-messages.js';
import { pointersAtLines } from './stringified-lines.js';
import type { ApiDescription } from './types.js';

/** A loaded description and the files it was read from. */
export interface LoadedApi {
  readonly description: ApiDescription;
  /** Absolute path → sha256 of every file read (the document and the files its `$ref`s name). */
  readonly files: ReadonlyMap<string, string>;
  /** One hash over all of them: a change to any file is a new version. */
  readonly hash: string;
}

/** A description that failed to load; `files` are those it involves (to watch for a fix). */
export class ApiDescriptionError extends ConfigError {
  constructor(
    issues: readonly ConfigIssue[],
    readonly files: readonly string[],
  ) {
    super(issues);
  }
}

const NOT_A_MAPPING = 'the document is not an OpenAPI description (not a mapping)';

/** More problems than this in one document are summarized: the first ones are what to fix. */
const MAX_ISSUES = 20;
/** The parser's own bound on dereferencing. */
const PARSE_TIMEOUT_MS = 10_000;

export async function loadApiDescription(file: string): Promise<ApiDescription> {
  return (await loadApiDocument(file)).description;
}

export async function loadApiDocument(file: string): Promise<LoadedApi> {
  const path = resolve(file);
  const files = new LocalFiles();
  const options = parserOptions(files);
  const root = await validateInOnePass(path, files, { parserOptions: options, readable: (document) => unsupportedVersion(document) === undefined });
  return root ? described(path, files, root) : loadThoroughly(path);
}

/** Dereferences, checks what keycard reads and the expanded size, then validates: every problem found and located. */
async function loadThoroughly(path: string): Promise<LoadedApi> {
  const files = new LocalFiles();
  const options = parserOptions(files);
  const fail = failure(path, files);

  let document: unknown;
  try {
    document = await dereference(path, options(true));
  } catch (error) {
    throw fail(readIssues(files, path, error));
  }
  const root = asObject(document);
  if (!root) throw fail([problemIssue(files, path, { tokens: [], message: NOT_A_MAPPING })]);
  const versionProblem = unsupportedVersion(root);
  if (versionProblem) throw fail([problemIssue(files, path, versionProblem)]);
  // Before validating: the validator walks every expanded value.
  if (expandedSize(document, MAX_NODES) > MAX_NODES) {
    throw fail([problemIssue(files, path, { tokens: [], message: `the document expands (through its $refs) to more than ${MAX_NODES} values` })]);
  }

  let result: ValidationResult;
  try {
    result = await validate(path, options(true));
  } catch (error) {
    throw fail(readIssues(files, path, error));
  }
  if (!result.valid) throw fail(await validationIssues(files, path, root, result, options));
  return described(path, files, root);
}

/** The description of a validated, dereferenced document, or its operations' problems. */
function described(path: string, files: LocalFiles, root: Record<string, unknown>): LoadedApi {
  const { operations, problems } = operationsOf(root);
  if (problems.length > 0) throw failure(path, files)(problems.slice(0, MAX_ISSUES).map((problem) => problemIssue(files, path, problem)));

  const info = asObject(root.info);
  const hashes = files.hashes();
  const hash = createHash('sha256');
  for (const [filePath, fileHash] of [...hashes].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(filePath).update('\0').update(fileHash).update('\0');
  return {
    description: {
      file: displayPath(path),
      title: typeof info?.title === 'string' ? info.title : '',
      version: typeof info?.version === 'string' ? info.version : '',
      operations,
    },
    files: hashes,
    hash: hash.digest('hex'),
  };
}

/** The error for `issues`, naming every file involved (to watch for a fix). */
function failure(path: string, files: LocalFiles): (issues: ConfigIssue[]) => ApiDescriptionError {
  return (issues) => new ApiDescriptionError(issues, [...new Set([path, ...files.files.keys(), ...files.failures.map((failure) => failure.target)])]);
}

/**
 * The parser's typings declare `resolve.file` a boolean and `resolve.http` a set of fetch options,
 * but it hands both to @apidevtools/json-schema-ref-parser as resolver plugins: an object `file`
 * replaces the file resolver, and `canRead: false` turns the HTTP resolver off. That is the only
 * way to read local files through keycard's reader and to fetch nothing (test/registry covers it).
 */
function parserOptions(files: LocalFiles): ParserOptionsFor {
  return (circular, counted = false) => {
    const options = {
      resolve: { external: !counted, file: files.plugin(), http: { canRead: false, timeout: 1, redirects: 0 } },
      dereference: { circular },
      ...(!counted && { timeoutMs: PARSE_TIMEOUT_MS }),
    };
    return options as unknown as ParserOptions;
  };
}

/**
 * `true`: every `$ref` replaced, circular schemas become cycles (keycard reads paths and
 * operations, never walks schemas). `'ignore'`: what the validator lays out in its messages, where
 * a `$ref` that leads to a circular schema stays a `$ref`. `counted`: a single-file document whose
 * expansion keycard counted beforehand (one-pass.ts): the parser neither looks for other files (a
 * walk over the whole document) nor watches the clock for every value it visits (the count bounds
 * its work, and a 10-second bound never applied to the validation itself anyway).
 */
type ParserOptionsFor = (circular: true | 'ignore', counted?: boolean) => ParserOptions;

function unsupportedVersion(root: Record<string, unknown>): Problem | undefined {
  if (typeof root.openapi === 'string' && /^3\.[01]\.\d+$/.test(root.openapi)) return undefined;
  if (root.swagger !== undefined) return { tokens: ['swagger'], message: 'keycard reads OpenAPI 3.0 and 3.1 descriptions, not Swagger 2.0' };
  if (root.openapi === undefined) return { tokens: [], message: 'the document is not an OpenAPI description (it has no "openapi" version)' };
  return { tokens: ['openapi'], message: `keycard reads OpenAPI 3.0 and 3.1 descriptions, not "openapi: ${String(root.openapi)}"` };
}

/** Why reading (parsing, resolving `$ref`s) failed: the reader's own records first, they say where. */
function readIssues(files: LocalFiles, path: string, error: unknown): ConfigIssue[] {
  if (files.failures.length > 0) return files.failures.slice(0, MAX_ISSUES).map((failure) => failureIssue(files, path, failure));
  if (error instanceof MissingPointerError) {
    // The parser names the target; the place to fix is the $ref that points there.
    const wanted = splitRef(error.source ?? path, error.targetRef);
    const place = findRef(files, (file, ref) => sameTarget(splitRef(file.path, ref), wanted));
    const written = place?.refText ?? error.targetRef;
    return [placedIssue('invalid_api_description', files, path, place, `$ref "${written}" points to nothing: "${String(error.targetToken)}" does not exist`)];
  }
  const main = files.files.get(path);
  if (main && !isMap(main.document.contents)) {
    return [placedIssue('invalid_api_description', files, path, undefined, NOT_A_MAPPING)];
  }
  return [placedIssue('invalid_api_description', files, path, undefined, `the description cannot be read: ${(error as Error).message}`)];
}

function failureIssue(files: LocalFiles, path: string, failure: ReadFailure): ConfigIssue {
  if (failure.kind === 'syntax') {
    return { code: 'yaml_syntax', file: displayPath(failure.target), line: failure.line, column: failure.column, message: failure.problem };
  }
  if (failure.reference === undefined) return { code: 'file_unreadable', file: displayPath(failure.target), message: failure.problem };
  const place =
    failure.kind === 'remote'
      ? findRef(files, (_file, ref) => ref.split('#')[0] === failure.reference)
      : findRef(files, (file, ref) => splitRef(file.path, ref).path === failure.target);
  const written = `$ref "${place?.refText ?? failure.reference}"`;
  const message = failure.kind === 'remote' ? `${written} is not a local file: ${failure.problem}` : `${written}: ${failure.problem}`;
  return placedIssue('invalid_api_description', files, path, place, message);
}

function sameTarget(a: { path: string; tokens: readonly string[] }, b: { path: string; tokens: readonly string[] }): boolean {
  return a.path === b.path && a.tokens.length === b.tokens.length && a.tokens.every((token, index) => token === b.tokens[index]);
}

/**
 * The parser's validation errors, each at its place. Schema errors carry a code frame of the
 * document as the validator laid it out (dereferenced with circular `$ref`s left alone): that
 * layout is rebuilt to turn the frame's line into a pointer. Other errors name their place in text.
 */
async function validationIssues(
  files: LocalFiles,
  path: string,
  root: Record<string, unknown>,
  result: Extract<ValidationResult, { valid: false }>,
  options: ParserOptionsFor,
): Promise<ConfigIssue[]> {
  const errors = result.errors.slice(0, MAX_ISSUES);
  const frames = errors.map((error) => /^>\s*(\d+) \|/m.exec(error.message));
  const wanted = new Set(frames.flatMap((frame) => (frame ? [Number(frame[1])] : [])));
  let lines = new Map<number, string[]>();
  if (wanted.size > 0) {
    try {
      lines = pointersAtLines(await dereference(path, options('ignore')), wanted);
    } catch {
      // It dereferenced a moment ago; without the layout the problems are reported at the document.
    }
  }
  const issues = errors.map((error, index) => {
    const frame = frames[index];
    const tokens = frame ? (lines.get(Number(frame[1])) ?? []) : pointerOfSpecMessage(root, error.message);
    return problemIssue(files, path, { tokens, message: validationMessage(error.message) }, { intoRef: true });
  });
  const more = result.additionalErrors + result.errors.length - errors.length;
  if (more > 0) issues.push(placedIssue('invalid_api_description', files, path, undefined, `and ${more} more problems`));
  return issues;
}

/** The first line of a parser message, without its upper-case tag and code frame, plus the frame's hint. */
function validationMessage(message: string): string {
  const first = (message.split('\n')[0] ?? message).replace(/^(?:[A-Z]+ )+(?=[a-z])/, '').trim();
  const hint = /^\s*\|\s*\^\s*(.*)$/m.exec(message)?.[1]?.trim();
  // "X is missing here!" and "X is not expected to be here!" repeat what the pointer and message say.
  if (!hint || /is missing here|is not expected to be here/.test(hint)) return first;
  return `${first} (${hint.replace(/^[^\w"'(]+/u, '').replace(/!$/, '')})`;
}

/** `intoRef`: a problem with a referenced object is reported where that object is written. */
function problemIssue(files: LocalFiles, path: string, problem: Problem, options: { intoRef?: boolean } = {}): ConfigIssue {
  return placedIssue('invalid_api_description', files, path, locate(files, path, problem.tokens, options), problem.message);
}

function placedIssue(code: ConfigErrorCode, files: LocalFiles, path: string, place: ReturnType<typeof locate>, message: string): ConfigIssue {
  if (!place) return { code, file: displayPath(path), message };
  return { code, file: place.file.display, line: place.line, column: place.column, ...(place.pointer !== '' && { key: place.pointer }), message };
}
