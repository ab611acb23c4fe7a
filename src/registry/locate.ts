// Where a JSON pointer of the dereferenced description is in the files as written: the pointer is
// walked through the parsed YAML of the document, and through every `$ref` it crosses into the
// file and place the reference names. The result is the file, line and column an operator edits,
// and the pointer within that file.
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { parsePointer, toPointer } from './json-pointer.js';
import type { LocalFile, LocalFiles } from './local-files.js';

export interface Place {
  readonly file: LocalFile;
  /** Pointer within `file`. */
  readonly pointer: string;
  readonly line: number;
  readonly column: number;
  /** The `$ref` written at the place, when the place is a reference. */
  readonly refText: string | undefined;
}

/**
 * The nearest existing place to `path` (a pointer into the dereferenced document that starts in
 * `start`). With `intoRef`, a place that is itself a `$ref` is the place it refers to: a problem
 * with a referenced object is written there.
 */
export function locate(files: LocalFiles, start: string, path: readonly string[], { intoRef = false, depth = 0 } = {}): Place | undefined {
  const first = files.files.get(start);
  if (!first) return undefined;
  let file: LocalFile = first;
  let node = file.document.contents as Node | null;
  let consumed: string[] = [];
  let offset = node?.range?.[0] ?? 0;
  let complete = true;
  // A `$ref` loop in the files must not loop here.
  let hops = 0;
  for (const token of path) {
    let target: RefTarget | undefined = node ? refTarget(files, file, node) : undefined;
    while (target && hops++ < 64) {
      ({ file, node, consumed } = target);
      offset = node?.range?.[0] ?? offset;
      target = node ? refTarget(files, file, node) : undefined;
    }
    const child = childOf(file, node, token);
    if (!child) {
      complete = false;
      break;
    }
    node = child.node;
    offset = child.offset;
    consumed = [...consumed, token];
  }
  // (References that only point at each other end the search after a few rounds.)
  const target = intoRef && complete && node && depth < 8 ? refTarget(files, file, node) : undefined;
  if (target) {
    // Where the reference points: its key in the other file (or that file's start, for a whole file).
    if (target.consumed.length > 0) return locate(files, target.file.path, target.consumed, { intoRef, depth: depth + 1 });
    ({ file, consumed } = target);
    offset = 0;
  }
  const { line, col } = file.lines.linePos(offset);
  const ref = !target && node && isMap(node) ? node.get('$ref', true) : undefined;
  const refText = isScalar(ref) && typeof ref.value === 'string' ? ref.value : undefined;
  return { file, pointer: toPointer(consumed), line, column: col, refText };
}

/** The first `$ref` (in the document, then the other files by path; in each, in document order) whose text `matches`, as a place. */
export function findRef(files: LocalFiles, matches: (file: LocalFile, ref: string) => boolean): Place | undefined {
  for (const file of files.ordered()) {
    const found = findRefIn(file, file.document.contents as Node | null, [], matches);
    if (found) return locate(files, file.path, found);
  }
  return undefined;
}

function findRefIn(file: LocalFile, node: Node | null, tokens: string[], matches: (file: LocalFile, ref: string) => boolean): string[] | undefined {
  if (isMap(node)) {
    const ref = node.get('$ref', true);
    if (isScalar(ref) && typeof ref.value === 'string' && matches(file, ref.value)) return tokens;
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (!isScalar(key)) continue;
      const found = findRefIn(file, pair.value as Node | null, [...tokens, String(key.value)], matches);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const found = findRefIn(file, item as Node | null, [...tokens, String(index)], matches);
      if (found) return found;
    }
  }
  return undefined;
}

/** The pointer `#/a/b` (or `file#/a/b`) of a `$ref` made absolute: the file's path and the pointer. */
export function splitRef(fromFile: string, ref: string): { path: string; tokens: string[] } {
  const hash = ref.indexOf('#');
  const filePart = hash === -1 ? ref : ref.slice(0, hash);
  const fragment = hash === -1 ? '' : ref.slice(hash);
  let path = decodePath(fromFile);
  if (filePart !== '') {
    try {
      path = resolve(dirname(fromFile), decodeURIComponent(filePart));
    } catch {
      path = resolve(dirname(fromFile), filePart);
    }
  }
  return { path, tokens: parsePointer(fragment) };
}

interface RefTarget {
  readonly file: LocalFile;
  readonly node: Node | null;
  readonly consumed: string[];
}

function refTarget(files: LocalFiles, file: LocalFile, node: Node): RefTarget | undefined {
  if (!isMap(node)) return undefined;
  const ref = node.get('$ref', true);
  if (!isScalar(ref) || typeof ref.value !== 'string') return undefined;
  const { path, tokens } = splitRef(file.path, ref.value);
  const target = files.files.get(path);
  if (!target) return undefined;
  let targetNode = target.document.contents as Node | null;
  const consumed: string[] = [];
  for (const token of tokens) {
    const child = childOf(target, targetNode, token);
    if (!child) return undefined;
    targetNode = child.node;
    consumed.push(token);
  }
  return { file: target, node: targetNode, consumed };
}

/** The child at `token` and where to point for it: the key of a map entry, the item of a list. */
function childOf(file: LocalFile, parent: Node | null, token: string): { node: Node | null; offset: number } | undefined {
  const node = parent && isAlias(parent) ? (parent.resolve(file.document) ?? null) : parent;
  if (node && isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (!(isScalar(key) && String(key.value) === token)) continue;
      const value = pair.value as Node | null;
      return { node: value, offset: key.range?.[0] ?? value?.range?.[0] ?? 0 };
    }
    return undefined;
  }
  if (node && isSeq(node) && /^(0|[1-9]\d*)$/.test(token)) {
    const item = node.items[Number(token)] as Node | undefined;
    return item ? { node: item, offset: item.range?.[0] ?? 0 } : undefined;
  }
  return undefined;
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
