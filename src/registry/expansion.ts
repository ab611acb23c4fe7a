// How many values the validator walks: the parser checks a document with its `$ref`s expanded, so
// a few hundred bytes of references to references (a `$ref` bomb) can be millions of values. The
// count is made before validating, and a document past the limit is refused instead.
import { parsePointer } from './json-pointer.js';

/** A dereferenced document may share subtrees; walking more values than this means a `$ref` bomb. */
export const MAX_NODES = 2_000_000;

/**
 * Values in a dereferenced document, a shared subtree counted each time it is reached (as a
 * validator walks it); a cycle (a circular schema) is not followed round. Stops counting past `limit`.
 */
export function expandedSize(root: unknown, limit: number): number {
  let count = 0;
  const onPath = new Set<object>();
  const stack: ({ enter: unknown } | { leave: object })[] = [{ enter: root }];
  while (stack.length > 0 && count <= limit) {
    const step = stack.pop()!;
    if ('leave' in step) {
      onPath.delete(step.leave);
      continue;
    }
    count++;
    const node = step.enter;
    if (typeof node !== 'object' || node === null || onPath.has(node)) continue;
    onPath.add(node);
    stack.push({ leave: node });
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push({ enter: child });
  }
  return count;
}

/**
 * The same count for a single-file document as written, its `$ref`s (all within the document)
 * followed rather than expanded: each target's size is worked out once, so a bomb costs no more
 * to count than its text. A `$ref` in `unexpanded` stays a reference; one that points to nothing
 * counts as itself (the parser refuses it). A target on a `$ref` cycle counts once (the parser
 * leaves a circular `$ref` unexpanded while validating). Stops counting past `limit`; a document
 * nested too deep to count is reported as past it (the thorough path then deals with it).
 */
export function expandedSizeAsWritten(root: unknown, limit: number, unexpanded: ReadonlySet<object>): number {
  // Only `$ref` targets are remembered: in a document as written nothing else is reached twice.
  const targets = new Map<unknown, number>();
  const size = (value: unknown): number => {
    if (typeof value !== 'object' || value === null) return 1;
    let total = 1;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) if ((total += size(item)) > limit) return total;
      return total;
    }
    const object = value as Record<string, unknown>;
    const ref = object.$ref;
    if (typeof ref === 'string' && ref.startsWith('#') && !unexpanded.has(object)) {
      const target = resolveLocal(root, ref);
      if (target !== NOTHING) {
        // The target in place of the reference, plus the keys written beside it (the parser merges them in).
        total = targetSize(target) - 1;
        for (const key in object) if (key !== '$ref' && (total += size(object[key])) > limit) return total;
        return total + 1;
      }
    }
    for (const key in object) if ((total += size(object[key])) > limit) return total;
    return total;
  };
  const targetSize = (target: unknown): number => {
    const known = targets.get(target);
    if (known !== undefined) return known;
    targets.set(target, 1); // while it is being counted: a cycle back to it counts once
    const total = size(target);
    targets.set(target, total);
    return total;
  };
  try {
    return size(root);
  } catch (error) {
    if (error instanceof RangeError) return Number.POSITIVE_INFINITY;
    throw error;
  }
}

const NOTHING = Symbol('nothing');

function resolveLocal(root: unknown, ref: string): unknown {
  let value = root;
  for (const token of parsePointer(ref)) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, token)) return NOTHING;
    value = (value as Record<string, unknown>)[token];
  }
  return value;
}
