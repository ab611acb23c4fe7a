// The only way the OpenAPI parser reaches a file: a resolver plugin that reads local files and
// nothing else. A `$ref` to an http(s) (or any other) URL is refused, never fetched, so loading
// policies never touches the network. Each file is read once per load, size-checked, parsed by the
// same YAML reader as keycard's own files (alias bombs and duplicate keys are refused with a
// line and column), hashed (a changed file is a new policy version) and kept for locating problems.
// A JSON file is read with JSON.parse instead (json-text.ts: a 13 MB description in tens of
// milliseconds, not seconds); its YAML document, which only locating a problem needs, is made then.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { displayPath } from '../policy/display-path.js';
import { parseJsonDocument } from './json-text.js';

/** Larger documents are refused rather than parsed: keycard reads them on every policy load. */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
/** A description split over more files than this is refused (a `$ref` chain gone wrong). */
export const MAX_DOCUMENT_FILES = 1000;

export class LocalFile {
  private positioned: { readonly document: Document; readonly lines: LineCounter } | undefined;
  /** A JSON file's value, not yet handed to the parser (it dereferences in place: each read gets its own). */
  private fresh: unknown;

  constructor(
    /** Absolute path. */
    readonly path: string,
    /** As shown in messages. */
    readonly display: string,
    /** sha256 of the content. */
    readonly hash: string,
    private readonly text: string,
    read: { readonly json: unknown } | { readonly document: Document; readonly lines: LineCounter },
  ) {
    if ('json' in read) this.fresh = read.json;
    else this.positioned = read;
  }

  /** The YAML document with positions, for locating problems (for a JSON file, parsed on first use). */
  get document(): Document {
    return this.withPositions().document;
  }

  get lines(): LineCounter {
    return this.withPositions().lines;
  }

  /**
   * Makes `value` (this file's content, taken with value()) what the next value() returns: the
   * parser then works on, and dereferences in place, the very object keycard holds.
   */
  lend(value: unknown): void {
    this.fresh = value;
  }

  /** Whether a value lent with lend() is still waiting to be read. */
  get lent(): boolean {
    return this.fresh !== undefined;
  }

  /** A copy of the content as plain values. */
  value(): unknown {
    if (this.fresh !== undefined) {
      const value = this.fresh;
      this.fresh = undefined;
      return value;
    }
    // A YAML file's document was read at load; a JSON file's text parsed again (JSON.parse is the fast copy).
    return this.positioned ? this.positioned.document.toJS({ maxAliasCount: 100 }) : JSON.parse(this.text);
  }

  private withPositions(): { readonly document: Document; readonly lines: LineCounter } {
    if (!this.positioned) {
      const lines = new LineCounter();
      this.positioned = { document: parseDocument(this.text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true }), lines };
    }
    return this.positioned;
  }
}

/** Why a file could not be used; `reference` is the `$ref` (without its #fragment) that asked for it, if any. */
export interface ReadFailure {
  readonly kind: 'unreadable' | 'syntax' | 'remote';
  readonly target: string;
  readonly reference: string | undefined;
  readonly problem: string;
  readonly line?: number;
  readonly column?: number;
}

/** What json-schema-ref-parser hands a resolver plugin. */
interface ResolverFile {
  readonly url: string;
  readonly reference?: string;
}

export interface ResolverPlugin {
  readonly order: number;
  readonly canRead: () => boolean;
  readonly read: (file: ResolverFile) => Promise<unknown>;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export class LocalFiles {
  /** Every file read so far, in the order first read (the document first; its `$ref`s are read in parallel). */
  readonly files = new Map<string, LocalFile>();
  readonly failures: ReadFailure[] = [];
  private readonly loading = new Map<string, Promise<LocalFile>>();

  /** The plugin: runs before any other resolver and claims every URL, so no other resolver ever sees one. */
  plugin(): ResolverPlugin {
    return { order: 1, canRead: () => true, read: (file) => this.read(file) };
  }

  /** The files read: the document, then the others by path (the order they were read in varies). */
  ordered(): LocalFile[] {
    const [document, ...others] = this.files.values();
    return document ? [document, ...others.sort((a, b) => (a.path < b.path ? -1 : 1))] : [];
  }

  /** Absolute paths of the files read (in ordered() order), with their content hashes. */
  hashes(): Map<string, string> {
    return new Map(this.ordered().map((file) => [file.path, file.hash]));
  }

  /** Reads a file now, as the parser would (the same read it gets later). Throws when it cannot be read or parsed. */
  async open(path: string): Promise<LocalFile> {
    let pending = this.loading.get(path);
    if (!pending) {
      pending = this.load(path);
      this.loading.set(path, pending);
    }
    return pending;
  }

  private async read(file: ResolverFile): Promise<unknown> {
    const reference = file.reference;
    if (SCHEME.test(file.url)) {
      return this.fail({
        kind: 'remote',
        target: file.url,
        reference,
        problem: 'keycard never fetches a remote reference (copy the document next to this one and refer to it by a relative path)',
      });
    }
    const path = decodePath(file.url);
    let pending = this.loading.get(path);
    if (!pending) {
      if (this.loading.size >= MAX_DOCUMENT_FILES) {
        return this.fail({ kind: 'unreadable', target: path, reference, problem: `the description refers to more than ${MAX_DOCUMENT_FILES} files` });
      }
      pending = this.load(path);
      this.loading.set(path, pending);
    }
    try {
      // A fresh copy each time: the parser dereferences in place, and reads a file once per pass.
      return (await pending).value();
    } catch (error) {
      if (!(error instanceof FileProblem)) throw error;
      return this.fail({ ...error.failure, target: path, reference });
    }
  }

  private async load(path: string): Promise<LocalFile> {
    let bytes: Buffer;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error('not a regular file');
      if (info.size > MAX_DOCUMENT_BYTES) throw new Error(`larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB`);
      bytes = await readFile(path);
    } catch (error) {
      throw new FileProblem({ kind: 'unreadable', problem: `cannot read ${displayPath(path)}: ${readProblem(error as NodeJS.ErrnoException)}` });
    }
    // The bytes as stored, not the decoded text: hashing a string encodes it again (3x slower).
    const hash = fileHash(bytes);
    const text = bytes.toString('utf8');
    const json = parseJsonDocument(text);
    if (json !== undefined) {
      const file = new LocalFile(path, displayPath(path), hash, text, { json });
      this.files.set(path, file);
      return file;
    }
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    const error = document.errors[0];
    if (error) {
      const position = error.linePos?.[0];
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      throw new FileProblem({ kind: 'syntax', problem: message, line: position?.line, column: position?.col });
    }
    try {
      document.toJS({ maxAliasCount: 100 });
    } catch (aliasError) {
      throw new FileProblem({ kind: 'syntax', problem: (aliasError as Error).message });
    }
    const file = new LocalFile(path, displayPath(path), hash, text, { document, lines });
    this.files.set(path, file);
    return file;
  }

  /** Records the failure (the parser's own error says less) and makes the parser give up. */
  private fail(failure: ReadFailure): never {
    if (!this.failures.some((known) => known.target === failure.target)) this.failures.push(failure);
    throw new Error(failure.problem);
  }
}

/** The content hash of a file (api-cache.ts compares files by it). */
export function fileHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

class FileProblem extends Error {
  constructor(readonly failure: Pick<ReadFailure, 'kind' | 'problem' | 'line' | 'column'>) {
    super(failure.problem);
  }
}

/** The reason without the absolute path Node puts in the message. */
function readProblem(error: NodeJS.ErrnoException): string {
  const known: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory', ENOTDIR: 'a path component is not a directory' };
  return error.code ? `${known[error.code] ?? 'unreadable'} (${error.code})` : error.message;
}

/** The parser hands over paths URL-encoded (a space is %20). */
function decodePath(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
