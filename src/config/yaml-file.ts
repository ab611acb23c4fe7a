// Reads a YAML file, validates it with a zod schema and reports every problem with file, line,
// column and key path. Used for the settings file, policy files and seed files alike.
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigErrorCode, type ConfigIssue } from '../errors.js';

export type KeyPath = readonly PropertyKey[];

/** A parsed YAML document that can say where any key path sits in the source. */
export class YamlSource {
  constructor(
    readonly file: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Position of the node at `path`, or of its nearest existing parent. */
  locate(path: KeyPath, keyName?: string): { line: number; column: number } {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.document.getIn(path.slice(0, depth), true) as Node | undefined;
      if (!node?.range) continue;
      const keyNode = depth === path.length && keyName !== undefined ? findKey(node, keyName) : undefined;
      const offset = keyNode?.range?.[0] ?? node.range[0];
      const { line, col } = this.lines.linePos(offset);
      return { line, column: col };
    }
    return { line: 1, column: 1 };
  }

  issue(code: ConfigErrorCode, path: KeyPath, message: string, keyName?: string): ConfigIssue {
    const fullPath = keyName === undefined ? path : [...path, keyName];
    return { code, file: this.file, ...this.locate(path, keyName), key: formatKeyPath(fullPath), message };
  }
}

function findKey(node: Node, keyName: string): Node | undefined {
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === keyName) return pair.key;
  }
  return undefined;
}

export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Parses YAML text; syntax errors (including duplicate keys) become ConfigError. */
export function parseYaml(file: string, text: string): { source: YamlSource; value: unknown } {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    // Only the first syntax error: the ones after it are usually its echoes.
    throw new ConfigError(
      document.errors.slice(0, 1).map((error) => ({
        code: 'yaml_syntax',
        file,
        line: error.linePos?.[0].line,
        column: error.linePos?.[0].col,
        // prettyErrors appends " at line L, column C:" and a source excerpt; the location is reported separately.
        message: (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias bomb ("billion laughs") is refused here, by a plain Error: report it like any
    // syntax error, so a hot reload keeps the last good set instead of crashing the process.
    throw new ConfigError([{ code: 'yaml_syntax', file, message: (error as Error).message }]);
  }
  return { source: new YamlSource(file, document, lines), value };
}

export function readYamlFile(file: string, displayName = file): { source: YamlSource; value: unknown } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ code: 'file_unreadable', file: displayName, message: (error as Error).message }]);
  }
  return parseYaml(displayName, text);
}

/** Validates `value` against `schema`; every zod issue becomes a located ConfigIssue. */
export function validate<S extends z.ZodType>(source: YamlSource, schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues: ConfigIssue[] = [];
  // An unknown key already explains a failed "exactly one key" refinement at the same place.
  const unknownAt = new Set(result.error.issues.filter((issue) => issue.code === 'unrecognized_keys').map((issue) => formatKeyPath(issue.path)));
  for (const issue of result.error.issues) {
    if (issue.code === 'custom' && unknownAt.has(formatKeyPath(issue.path))) continue;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push(source.issue('unknown_key', issue.path, `unknown key "${key}"`, key));
    } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      issues.push(source.issue('missing_key', issue.path, 'required key is missing'));
    } else {
      issues.push(source.issue('invalid_value', issue.path, issue.message));
    }
  }
  throw new ConfigError(issues);
}

export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, displayName = file) {
  const { source, value } = readYamlFile(file, displayName);
  return { source, data: validate(source, schema, value) };
}
