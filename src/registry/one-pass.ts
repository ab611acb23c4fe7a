// The usual way a description loads: read once, then one call of the parser's `validate`, which
// resolves the `$ref`s, dereferences the document in place and validates it. keycard hands the
// parser the very object it read (local-files.ts), so once `validate` says valid that object is
// the dereferenced document keycard reads operations from: no second dereference of its own.
//
// This way only vouches for a document it validated cleanly. Anything else (a file that cannot be
// read, a `$ref` to another file, a problem found) gives undefined, and the caller loads the
// description the thorough way (openapi.ts), which finds and locates every problem as before.
import { isJsonObject as isObject } from '../json-object.js';
import { validate, type ParserOptions } from '@readme/openapi-parser';
import { expandedSizeAsWritten, MAX_NODES } from './expansion.js';
import type { LocalFiles } from './local-files.js';
import { planRefs } from './unexpanded-refs.js';

type Json = Record<string, unknown>;

export interface OnePassOptions {
  /** Parser options for `circular` `$ref`s; `counted`: for a single-file document whose expansion was counted. */
  readonly parserOptions: (circular: true, counted: boolean) => ParserOptions;
  /** Whether keycard reads this document at all (a mapping of a supported OpenAPI version). */
  readonly readable: (root: Json) => boolean;
}

/** The document at `path` (absolute), validated and dereferenced, or undefined when this way cannot vouch for it. */
export async function validateInOnePass(path: string, files: LocalFiles, options: OnePassOptions): Promise<Json | undefined> {
  const file = await files.open(path).catch(() => undefined);
  if (!file) return undefined;
  const root = file.value();
  if (!isObject(root) || !options.readable(root) || typeof root.$ref === 'string') return undefined;
  const plan = planRefs(root);
  // Another file's `$ref`s are resolved against that file: the count below cannot follow them.
  if (!plan || plan.external || expandedSizeAsWritten(root, MAX_NODES, plan.unexpanded) > MAX_NODES) return undefined;
  file.lend(root);
  plan.park();
  try {
    const result = await validate(path, options.parserOptions(true, true));
    // The parser must have worked on the object lent to it, or `root` is not what it validated.
    return result.valid && !file.lent ? root : undefined;
  } catch {
    return undefined;
  } finally {
    plan.restore();
  }
}
