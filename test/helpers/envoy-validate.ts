// Strict validation of an Envoy bootstrap (the YAML that `envoy -c FILE` reads), without Envoy:
//
// 1. YAML syntax (duplicate keys included).
// 2. Envoy's schema: @bufbuild/protobuf's fromJson(Bootstrap) over a descriptor set of Envoy's
//    own API protos (build/envoy-config.binpb, from scripts/gen-envoy-config.sh). It rejects
//    unknown keys, wrong types (a duration written 0.25 instead of 0.25s), unknown enum names
//    and any typed_config whose @type is not a known message.
// 3. protoc-gen-validate rules, which Envoy enforces on load and fromJson does not
//    (envoy-pgv.ts): required fields, non-empty names, positive timeouts, port ranges; and
//    deprecated fields.
// 4. Cross-references and keycard's rules for Envoy (envoy-keycard-rules.ts): every cluster named
//    exists, every service named is one keycard has a policy for, ext_authz fails closed, paths
//    are normalized as keycard expects, identity headers cannot be smuggled.
//
// Every problem names the file, line, column and path, e.g. (one line)
//   typo-failure-mode-alow.yaml:27:23 [schema] static_resources.listeners[0].filter_chains[0]
//   .filters[0].typed_config.http_filters[0].typed_config.failure_mode_alow: key "failure_mode_alow"
//   is unknown (envoy.extensions.filters.http.ext_authz.v3.ExtAuthz)
//
// Used by test/envoy/envoy-config.test.ts, and by the Kubernetes tests for the Envoy config that
// a ConfigMap embeds: validateEnvoyYaml(configMap.data['envoy.yaml'], { source: '…' }).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createFileRegistry,
  fromBinary,
  fromJson,
  toJson,
  type DescMessage,
  type FileRegistry,
  type JsonObject,
  type JsonValue,
  type Message,
} from '@bufbuild/protobuf';
import { reflect } from '@bufbuild/protobuf/reflect';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { LineCounter, isMap, isPair, isScalar, isSeq, parse as parseYaml, parseDocument, type Node } from 'yaml';
import { PgvChecker, asObject, type PathSegment } from './envoy-pgv.js';
import { keycardRuleProblems } from './envoy-keycard-rules.js';

export type { PathSegment } from './envoy-pgv.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ENVOY_DESCRIPTOR_SET = join(REPO_ROOT, 'build/envoy-config.binpb');
const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

export type EnvoyProblemCode =
  | 'yaml' // not YAML, or a duplicate key
  | 'schema' // not an Envoy Bootstrap: unknown key, wrong type, unknown @type or enum name
  | 'validate' // breaks a protoc-gen-validate rule Envoy enforces on load
  | 'deprecated' // a deprecated field or enum value
  | 'reference' // names a cluster or filter that does not exist, or a name is used twice
  | 'keycard'; // breaks one of keycard's rules for Envoy (see envoy-keycard-rules.ts)

export interface EnvoyProblem {
  readonly code: EnvoyProblemCode;
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export interface EnvoyValidateOptions {
  /** Names the config in messages (a file name, or "FILE data.envoy.yaml" for a ConfigMap). */
  readonly source?: string;
  /** Services keycard has policies for; default: the `service:` of each policy in examples/policies. */
  readonly knownServices?: Iterable<string>;
  /** Accept deprecated fields and enum values (default: they are problems). */
  readonly allowDeprecated?: boolean;
}

let registry: FileRegistry | undefined;

/** The Envoy API types, built by scripts/gen-envoy-config.sh when the descriptor set is missing. */
export function envoyConfigRegistry(): FileRegistry {
  if (registry) return registry;
  if (!existsSync(ENVOY_DESCRIPTOR_SET)) {
    execFileSync(join(REPO_ROOT, 'scripts/gen-envoy-config.sh'), { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(ENVOY_DESCRIPTOR_SET)));
  return registry;
}

function bootstrapSchema(types: FileRegistry): DescMessage {
  const schema = types.getMessage(BOOTSTRAP);
  if (!schema) throw new Error(`${ENVOY_DESCRIPTOR_SET} lacks ${BOOTSTRAP}`);
  return schema;
}

/** The `service:` names of the policies in `dir` (policy tests, *.test.yaml, are skipped). */
export function policyServices(dir = join(REPO_ROOT, 'examples/policies')): Set<string> {
  const services = new Set<string>();
  for (const name of readdirSync(dir)) {
    if (!/\.ya?ml$/.test(name) || /\.test\.ya?ml$/.test(name)) continue;
    const policy: unknown = parseYaml(readFileSync(join(dir, name), 'utf8'));
    if (policy && typeof policy === 'object' && 'service' in policy && typeof policy.service === 'string') services.add(policy.service);
  }
  return services;
}

/** Every problem in an Envoy bootstrap written as YAML; [] when it is valid. */
export function validateEnvoyYaml(text: string, options: EnvoyValidateOptions = {}): EnvoyProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return doc.errors.map((error) => ({
      code: 'yaml',
      path: [],
      message: (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, ''),
      line: error.linePos?.[0].line,
      column: error.linePos?.[0].col,
    }));
  }
  const problems = validateEnvoyObject(doc.toJS({ maxAliasCount: 100 }), options);
  return problems.map((problem) => {
    const offset = locateInYaml(doc.contents, problem.path);
    if (offset === undefined) return problem;
    const { line, col } = lineCounter.linePos(offset);
    return { ...problem, line, column: col };
  });
}

/** Every problem in an Envoy bootstrap already parsed from YAML or JSON (no line numbers). */
export function validateEnvoyObject(config: unknown, options: EnvoyValidateOptions = {}): EnvoyProblem[] {
  const types = envoyConfigRegistry();
  const schema = bootstrapSchema(types);
  let json: JsonValue;
  try {
    json = toJsonValue(config, []);
  } catch (error) {
    return [{ code: 'schema', path: [], message: (error as Error).message }];
  }
  if (asObject(json) === undefined) return [{ code: 'schema', path: [], message: 'an Envoy bootstrap is a mapping' }];

  let message: Message;
  try {
    message = fromJson(schema, json, { registry: types });
  } catch (error) {
    const located = locateJsonError(schema, json, [], types) ?? { path: [], message: (error as Error).message };
    return [{ code: 'schema', ...located }];
  }

  const problems: EnvoyProblem[] = new PgvChecker(types)
    .check(reflect(schema, message))
    .filter((violation) => !(options.allowDeprecated && violation.code === 'deprecated'));
  // The canonical form: snake_case keys, defaults left out, each typed_config with its @type.
  const canonical = asObject(toJson(schema, message, { registry: types, useProtoFieldName: true })) ?? {};
  const knownServices = new Set(options.knownServices ?? policyServices());
  problems.push(...keycardRuleProblems(canonical, knownServices));
  return problems;
}

/** The bootstrap in canonical proto3 JSON (snake_case keys, defaults left out, typed_config with @type). Throws if it does not decode. */
export function canonicalEnvoyYaml(text: string): JsonObject {
  const types = envoyConfigRegistry();
  const schema = bootstrapSchema(types);
  const message = fromJson(schema, toJsonValue(parseYaml(text), []), { registry: types });
  return asObject(toJson(schema, message, { registry: types, useProtoFieldName: true })) ?? {};
}

/** One line per problem: `SOURCE:LINE:COL [code] path: message`. */
export function formatEnvoyProblems(problems: readonly EnvoyProblem[], source = 'envoy.yaml'): string {
  return problems
    .map((p) => `${source}${p.line === undefined ? '' : `:${p.line}:${p.column ?? 1}`} [${p.code}] ${formatPath(p.path) || '(top)'}: ${p.message}`)
    .join('\n');
}

/** Throws every problem, formatted, unless the YAML is a valid bootstrap. */
export function assertValidEnvoyYaml(text: string, options: EnvoyValidateOptions = {}): void {
  const problems = validateEnvoyYaml(text, options);
  if (problems.length > 0) throw new Error(formatEnvoyProblems(problems, options.source));
}

export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
}

/** Plain data only: the YAML parser's output must be JSON before fromJson sees it. */
function toJsonValue(value: unknown, path: readonly PathSegment[]): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${formatPath(path)}: ${value} is not a JSON number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item: unknown, index) => toJsonValue(item, [...path, index]));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(value)) result[key] = toJsonValue(item, [...path, key]);
    return result;
  }
  throw new Error(`${formatPath(path) || '(top)'}: ${String(value)} is not plain data`);
}

// Well-known types whose JSON form is not an object of their fields.
const SPECIAL_JSON = new Set([
  'google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.FieldMask', 'google.protobuf.Struct',
  'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.Empty', 'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value', 'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue', 'google.protobuf.BytesValue',
]);

/**
 * fromJson says what is wrong but not where. Decode key by key, descending into the key that
 * fails, to find the innermost place that fails on its own.
 */
function locateJsonError(
  desc: DescMessage, json: JsonValue, path: readonly PathSegment[], types: FileRegistry,
): { path: readonly PathSegment[]; message: string } | undefined {
  const fails = (schema: DescMessage, value: JsonValue): string | undefined => {
    try {
      fromJson(schema, value, { registry: types });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  const failure = fails(desc, json);
  if (failure === undefined) return undefined;
  const object = asObject(json);
  if (desc.typeName === 'google.protobuf.Duration') return { path, message: `${failure} (write seconds with an "s" suffix, e.g. 0.25s)` };
  if (SPECIAL_JSON.has(desc.typeName) || !object) return { path, message: failure };

  if (desc.typeName === 'google.protobuf.Any') {
    const typeUrl = object['@type'];
    if (typeof typeUrl !== 'string') return { path, message: failure };
    const inner = types.getMessage(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
    if (!inner) return { path: [...path, '@type'], message: `${typeUrl} is not in the type registry (a typo, or a type scripts/gen-envoy-config.sh does not build)` };
    if (SPECIAL_JSON.has(inner.typeName)) return locateJsonError(inner, object['value'] ?? null, [...path, 'value'], types) ?? { path, message: failure };
    const packed: JsonObject = { ...object };
    delete packed['@type'];
    return locateJsonError(inner, packed, path, types) ?? { path, message: failure };
  }

  for (const [key, value] of Object.entries(object)) {
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (!field) return { path: [...path, key], message: `key "${key}" is unknown (${desc.typeName})` };
    const alone = fails(desc, { [key]: value });
    if (alone === undefined) continue;
    const at = [...path, key];
    if (field.fieldKind === 'message') return locateJsonError(field.message, value, at, types) ?? { path: at, message: alone };
    if (field.fieldKind === 'list' && field.listKind === 'message' && Array.isArray(value)) {
      for (const [index, item] of value.entries()) {
        const inner = locateJsonError(field.message, item, [...at, index], types);
        if (inner) return inner;
      }
    }
    if (field.fieldKind === 'map' && field.mapKind === 'message') {
      for (const [entryKey, entry] of Object.entries(asObject(value) ?? {})) {
        const inner = locateJsonError(field.message, entry, [...at, entryKey], types);
        if (inner) return inner;
      }
    }
    return { path: at, message: alone };
  }
  return { path, message: failure };
}

/** The source offset of the deepest YAML node on `path` (keys match snake_case or camelCase). */
function locateInYaml(root: Node | null, path: readonly PathSegment[]): number | undefined {
  let node: unknown = root;
  let offset = isNodeWithRange(root) ? root.range[0] : undefined;
  const loose = (key: string) => key.replaceAll('_', '').toLowerCase();
  for (const segment of path) {
    if (isMap(node)) {
      const pair =
        node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment)) ??
        node.items.find((item) => isScalar(item.key) && loose(String(item.key.value)) === loose(String(segment)));
      if (!isPair(pair)) return offset;
      if (isNodeWithRange(pair.key)) offset = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (isNodeWithRange(item)) offset = item.range[0];
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function isNodeWithRange(node: unknown): node is { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && 'range' in node && Array.isArray(node.range);
}
