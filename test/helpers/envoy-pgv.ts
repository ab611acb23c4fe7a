// protoc-gen-validate (PGV) rules of the Envoy API, checked on a decoded message. Envoy checks
// these when it loads a config (`(validate.rules)` on fields, `(validate.required)` on oneofs);
// @bufbuild/protobuf's fromJson does not, so this walks the message and the rules itself.
//
// Covered: message.required/skip, oneof required, every numeric rule (const, lt/lte/gt/gte with
// PGV's reversed ranges, in, not_in), bool const, string (const, len, min/max_len, len_bytes,
// min/max_bytes, pattern, prefix, suffix, contains, not_contains, in, not_in, hostname, ip,
// ipv4, ipv6, address, uri, uri_ref, uuid, well_known_regex with strict), bytes lengths, enum
// (const, defined_only, in, not_in), repeated (min/max_items, unique, items), map (min/max_pairs,
// no_sparse, keys, values), any (required, in, not_in), duration (required, const, lt/lte/gt/gte,
// in, not_in), ignore_empty, message-level disabled, and fields or enum values marked deprecated.
// Not covered (unused by the configs here): string email, timestamp rules, bytes content rules.
import { isIP } from 'node:net';
import {
  getExtension,
  hasExtension,
  isMessage,
  toJson,
  type DescEnum,
  type DescExtension,
  type DescField,
  type DescMessage,
  type FileRegistry,
  type JsonObject,
  type JsonValue,
  type ScalarType,
} from '@bufbuild/protobuf';
import { reflect, isReflectList, isReflectMap, isReflectMessage, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { AnySchema, FeatureSet_FieldPresence, anyUnpack } from '@bufbuild/protobuf/wkt';

export type PathSegment = string | number;

export interface RuleViolation {
  readonly code: 'validate' | 'deprecated';
  readonly path: readonly PathSegment[];
  readonly message: string;
}

type ValueKind =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  | { readonly kind: 'enum'; readonly desc: DescEnum }
  | { readonly kind: 'message'; readonly desc: DescMessage };

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
/** Well-known types whose contents PGV does not look into. */
const OPAQUE = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.Timestamp', 'google.protobuf.Empty', 'google.protobuf.FieldMask']);

const NUMERIC_RULES = ['float', 'double', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'];

// protoc-gen-validate's expressions for well_known_regex (templates/goshared/register.go).
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
/** HTTP_HEADER_VALUE strict: no control characters but horizontal tab. */
const headerValueStrict = (value: string) => ![...value].some((c) => { const code = c.charCodeAt(0); return code <= 0x08 || (code >= 0x0a && code <= 0x1f) || code === 0x7f; });
/** Both well-known regexes with strict: false: no NUL, LF or CR. */
const headerLoose = (value: string) => !/[\n\r]/.test(value) && !value.includes(String.fromCharCode(0));
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export class PgvChecker {
  private readonly rulesExt: DescExtension;
  private readonly requiredExt: DescExtension;
  private readonly disabledExt: DescExtension;
  private readonly fieldRules: DescMessage;
  private readonly ruleCache = new Map<DescField, JsonObject | undefined>();
  private readonly violations: RuleViolation[] = [];

  constructor(private readonly registry: FileRegistry) {
    const need = <T>(value: T | undefined, name: string): T => {
      if (value === undefined) throw new Error(`the Envoy descriptor set lacks ${name} (is validate/validate.proto in it?)`);
      return value;
    };
    this.rulesExt = need(registry.getExtension('validate.rules'), 'validate.rules');
    this.requiredExt = need(registry.getExtension('validate.required'), 'validate.required');
    this.disabledExt = need(registry.getExtension('validate.disabled'), 'validate.disabled');
    this.fieldRules = need(registry.getMessage('validate.FieldRules'), 'validate.FieldRules');
  }

  /** Every violation in `message` and everything it contains (typed_config included). */
  check(message: ReflectMessage, path: readonly PathSegment[] = []): RuleViolation[] {
    this.violations.length = 0;
    this.message(message, path);
    return [...this.violations];
  }

  private report(path: readonly PathSegment[], message: string, code: RuleViolation['code'] = 'validate'): void {
    this.violations.push({ code, path, message });
  }

  private message(m: ReflectMessage, path: readonly PathSegment[]): void {
    const options = m.desc.proto.options;
    if (options && hasExtension(options, this.disabledExt) && getExtension(options, this.disabledExt) === true) return;
    for (const oneof of m.oneofs) {
      const oneofOptions = oneof.proto.options;
      const required = oneofOptions !== undefined && hasExtension(oneofOptions, this.requiredExt) && getExtension(oneofOptions, this.requiredExt) === true;
      if (required && m.oneofCase(oneof) === undefined) {
        this.report(path, `${m.desc.typeName}: one of ${oneof.fields.map((f) => f.name).join(', ')} is required`);
      }
    }
    for (const field of m.fields) {
      const at = [...path, field.name];
      const set = m.isSet(field);
      if (field.oneof && !set) continue; // rules on a oneof member apply only when it is the one set
      if (set && field.deprecated) this.report(at, `${m.desc.typeName}.${field.name} is deprecated`, 'deprecated');
      const rules = this.rules(field);
      const value: unknown = m.get(field);
      switch (field.fieldKind) {
        case 'list':
          this.list(value, field, rules, at);
          break;
        case 'map':
          this.map(value, field, rules, at);
          break;
        case 'message':
          if (!set) {
            if (requiresPresence(rules)) this.report(at, `${field.name} is required`);
          } else {
            this.value(rules, value, { kind: 'message', desc: field.message }, at);
          }
          break;
        case 'enum':
          if (set || field.presence !== FeatureSet_FieldPresence.EXPLICIT) this.value(rules, value, { kind: 'enum', desc: field.enum }, at);
          break;
        case 'scalar':
          if (set || field.presence !== FeatureSet_FieldPresence.EXPLICIT) this.value(rules, value, { kind: 'scalar', scalar: field.scalar }, at);
          break;
      }
    }
  }

  /** The field's (validate.rules) as proto3 JSON (camelCase keys, int64 as strings, durations as "1s"). */
  private rules(field: DescField): JsonObject | undefined {
    if (this.ruleCache.has(field)) return this.ruleCache.get(field);
    let rules: JsonObject | undefined;
    const options = field.proto.options;
    if (options && hasExtension(options, this.rulesExt)) {
      const value: unknown = getExtension(options, this.rulesExt);
      if (isMessage(value, this.fieldRules)) rules = asObject(toJson(this.fieldRules, value, { registry: this.registry }));
    }
    this.ruleCache.set(field, rules);
    return rules;
  }

  private list(value: unknown, field: DescField, rules: JsonObject | undefined, at: readonly PathSegment[]): void {
    if (!isReflectList(value)) return;
    const repeated = asObject(rules?.['repeated']);
    const items = [...value];
    if (repeated && !(repeated['ignoreEmpty'] === true && items.length === 0)) {
      const min = toNumber(repeated['minItems']);
      const max = toNumber(repeated['maxItems']);
      if (min !== undefined && items.length < min) this.report(at, `needs at least ${min} item(s), has ${items.length}`);
      if (max !== undefined && items.length > max) this.report(at, `allows at most ${max} item(s), has ${items.length}`);
      if (repeated['unique'] === true) {
        const seen = new Set<string>();
        items.forEach((item, index) => {
          const key = typeof item === 'bigint' ? item.toString() : JSON.stringify(item);
          if (seen.has(key)) this.report([...at, index], `duplicate item ${key}`);
          seen.add(key);
        });
      }
    }
    const kind = elementKind(field);
    const itemRules = asObject(repeated?.['items']);
    items.forEach((item, index) => this.value(itemRules, item, kind, [...at, index]));
  }

  private map(value: unknown, field: DescField, rules: JsonObject | undefined, at: readonly PathSegment[]): void {
    if (!isReflectMap(value) || field.fieldKind !== 'map') return;
    const mapRules = asObject(rules?.['map']);
    if (mapRules && !(mapRules['ignoreEmpty'] === true && value.size === 0)) {
      const min = toNumber(mapRules['minPairs']);
      const max = toNumber(mapRules['maxPairs']);
      if (min !== undefined && value.size < min) this.report(at, `needs at least ${min} entr(y/ies), has ${value.size}`);
      if (max !== undefined && value.size > max) this.report(at, `allows at most ${max} entr(y/ies), has ${value.size}`);
    }
    const kind = elementKind(field);
    for (const [key, entry] of value) {
      const entryPath = [...at, String(key)];
      this.value(asObject(mapRules?.['keys']), key, { kind: 'scalar', scalar: field.mapKey }, entryPath);
      this.value(asObject(mapRules?.['values']), entry, kind, entryPath);
    }
  }

  /** Checks one value (a singular field, a list item or a map value) against its rules. */
  private value(rules: JsonObject | undefined, value: unknown, kind: ValueKind, at: readonly PathSegment[]): void {
    if (kind.kind === 'message') {
      if (isReflectMessage(value)) this.messageValue(rules, value, at);
      return;
    }
    if (kind.kind === 'enum') {
      if (typeof value === 'number') this.enumValue(asObject(rules?.['enum']), value, kind.desc, at);
      return;
    }
    if (rules) this.scalar(rules, value, at);
  }

  private messageValue(rules: JsonObject | undefined, m: ReflectMessage, at: readonly PathSegment[]): void {
    const typeName = m.desc.typeName;
    if (typeName === 'google.protobuf.Duration') {
      this.duration(asObject(rules?.['duration']), m, at);
      return;
    }
    if (WRAPPERS.has(typeName)) {
      const inner = m.desc.fields[0];
      if (inner && rules) this.scalar(rules, m.get(inner), at);
      return;
    }
    if (OPAQUE.has(typeName)) return;
    if (asObject(rules?.['message'])?.['skip'] === true) return;
    if (typeName === AnySchema.typeName) {
      if (!isMessage(m.message, AnySchema)) return;
      const any = m.message;
      const anyRules = asObject(rules?.['any']);
      const typeIn = asStrings(anyRules?.['in']);
      const typeNotIn = asStrings(anyRules?.['notIn']);
      if (typeIn.length > 0 && !typeIn.includes(any.typeUrl)) this.report(at, `@type ${any.typeUrl} is not one of ${typeIn.join(', ')}`);
      if (typeNotIn.includes(any.typeUrl)) this.report(at, `@type ${any.typeUrl} is not allowed here`);
      const typeName = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
      const desc = this.registry.getMessage(typeName);
      const unpacked = anyUnpack(any, this.registry);
      if (!desc || !unpacked) {
        this.report([...at, '@type'], `${any.typeUrl} is not in the type registry`);
        return;
      }
      this.message(reflect(desc, unpacked), at);
      return;
    }
    this.message(m, at);
  }

  private duration(rules: JsonObject | undefined, m: ReflectMessage, at: readonly PathSegment[]): void {
    if (!rules) return;
    const value = durationNanos(m);
    const bound = (key: string) => (typeof rules[key] === 'string' ? parseJsonDuration(rules[key]) : undefined);
    const text = formatNanos(value);
    const constant = bound('const');
    if (constant !== undefined && value !== constant) this.report(at, `must be ${formatNanos(constant)}, is ${text}`);
    this.range(value, bound('gt'), bound('gte'), bound('lt'), bound('lte'), at, formatNanos, text);
    const within = asArray(rules['in']).flatMap((v) => (typeof v === 'string' ? [parseJsonDuration(v)] : []));
    if (within.length > 0 && !within.includes(value)) this.report(at, `must be one of ${within.map(formatNanos).join(', ')}, is ${text}`);
    const notIn = asArray(rules['notIn']).flatMap((v) => (typeof v === 'string' ? [parseJsonDuration(v)] : []));
    if (notIn.includes(value)) this.report(at, `must not be ${text}`);
  }

  private enumValue(rules: JsonObject | undefined, value: number, desc: DescEnum, at: readonly PathSegment[]): void {
    const known = desc.values.find((v) => v.number === value);
    if (known?.deprecated && value !== 0) this.report(at, `${desc.typeName}.${known.name} is deprecated`, 'deprecated');
    if (!rules) return;
    const name = known?.name ?? String(value);
    if (typeof rules['const'] === 'number' && value !== rules['const']) this.report(at, `must be ${enumName(desc, rules['const'])}, is ${name}`);
    if (rules['definedOnly'] === true && !known) this.report(at, `${value} is not a value of ${desc.typeName}`);
    const within = asArray(rules['in']).filter((v): v is number => typeof v === 'number');
    if (within.length > 0 && !within.includes(value)) this.report(at, `must be one of ${within.map((v) => enumName(desc, v)).join(', ')}, is ${name}`);
    if (asArray(rules['notIn']).includes(value)) this.report(at, `must not be ${name}`);
  }

  private scalar(rules: JsonObject, value: unknown, at: readonly PathSegment[]): void {
    for (const kind of NUMERIC_RULES) {
      const numeric = asObject(rules[kind]);
      if (numeric && (typeof value === 'number' || typeof value === 'bigint')) this.numeric(numeric, value, at);
    }
    const bool = asObject(rules['bool']);
    if (bool && typeof value === 'boolean' && typeof bool['const'] === 'boolean' && value !== bool['const']) {
      this.report(at, `must be ${bool['const']}`);
    }
    const string = asObject(rules['string']);
    if (string && typeof value === 'string') this.string(string, value, at);
    const bytes = asObject(rules['bytes']);
    if (bytes && value instanceof Uint8Array && !(bytes['ignoreEmpty'] === true && value.length === 0)) {
      this.lengths(value.length, bytes['len'], bytes['minLen'], bytes['maxLen'], 'byte', at);
    }
  }

  private numeric(rules: JsonObject, value: number | bigint, at: readonly PathSegment[]): void {
    if (rules['ignoreEmpty'] === true && Number(value) === 0) return;
    const bound = (key: string) => toNumeric(rules[key]);
    const text = String(value);
    const constant = bound('const');
    if (constant !== undefined && compare(value, constant) !== 0) this.report(at, `must be ${constant}, is ${text}`);
    this.range(value, bound('gt'), bound('gte'), bound('lt'), bound('lte'), at, String, text);
    const within = asArray(rules['in']).map(toNumeric).filter((v): v is number | bigint => v !== undefined);
    if (within.length > 0 && !within.some((v) => compare(value, v) === 0)) this.report(at, `must be one of ${within.join(', ')}, is ${text}`);
    const notIn = asArray(rules['notIn']).map(toNumeric).filter((v): v is number | bigint => v !== undefined);
    if (notIn.some((v) => compare(value, v) === 0)) this.report(at, `must not be ${text}`);
  }

  /** PGV's ranges: with a lower bound above the upper bound, the allowed range is outside them. */
  private range<T extends number | bigint>(
    value: T, gt: T | undefined, gte: T | undefined, lt: T | undefined, lte: T | undefined,
    at: readonly PathSegment[], format: (v: T) => string, text: string,
  ): void {
    const lower = gt ?? gte;
    const upper = lt ?? lte;
    const aboveLower = lower === undefined || (gt !== undefined ? compare(value, gt) > 0 : compare(value, lower) >= 0);
    const belowUpper = upper === undefined || (lt !== undefined ? compare(value, lt) < 0 : compare(value, upper) <= 0);
    const lowerText = lower === undefined ? '' : `${gt !== undefined ? '>' : '>='} ${format(lower)}`;
    const upperText = upper === undefined ? '' : `${lt !== undefined ? '<' : '<='} ${format(upper)}`;
    if (lower !== undefined && upper !== undefined && compare(lower, upper) > 0) {
      if (!aboveLower && !belowUpper) this.report(at, `must be ${lowerText} or ${upperText}, is ${text}`);
      return;
    }
    if (!aboveLower || !belowUpper) this.report(at, `must be ${[lowerText, upperText].filter(Boolean).join(' and ')}, is ${text}`);
  }

  private string(rules: JsonObject, value: string, at: readonly PathSegment[]): void {
    if (rules['ignoreEmpty'] === true && value === '') return;
    const shown = JSON.stringify(value);
    if (typeof rules['const'] === 'string' && value !== rules['const']) this.report(at, `must be ${JSON.stringify(rules['const'])}, is ${shown}`);
    this.lengths([...value].length, rules['len'], rules['minLen'], rules['maxLen'], 'character', at);
    this.lengths(Buffer.byteLength(value), rules['lenBytes'], rules['minBytes'], rules['maxBytes'], 'byte', at);
    if (typeof rules['pattern'] === 'string' && !new RegExp(rules['pattern'], 'u').test(value)) {
      this.report(at, `${shown} does not match ${rules['pattern']}`);
    }
    if (typeof rules['prefix'] === 'string' && !value.startsWith(rules['prefix'])) this.report(at, `${shown} must start with ${JSON.stringify(rules['prefix'])}`);
    if (typeof rules['suffix'] === 'string' && !value.endsWith(rules['suffix'])) this.report(at, `${shown} must end with ${JSON.stringify(rules['suffix'])}`);
    if (typeof rules['contains'] === 'string' && !value.includes(rules['contains'])) this.report(at, `${shown} must contain ${JSON.stringify(rules['contains'])}`);
    if (typeof rules['notContains'] === 'string' && value.includes(rules['notContains'])) this.report(at, `${shown} must not contain ${JSON.stringify(rules['notContains'])}`);
    const within = asStrings(rules['in']);
    if (within.length > 0 && !within.includes(value)) this.report(at, `must be one of ${within.join(', ')}, is ${shown}`);
    if (asStrings(rules['notIn']).includes(value)) this.report(at, `must not be ${shown}`);

    const wellKnown: [string, (v: string) => boolean][] = [
      ['hostname', (v) => HOSTNAME.test(v)],
      ['ip', (v) => isIP(v) !== 0],
      ['ipv4', (v) => isIP(v) === 4],
      ['ipv6', (v) => isIP(v) === 6],
      ['address', (v) => isIP(v) !== 0 || HOSTNAME.test(v)],
      ['uri', (v) => URL.canParse(v)],
      ['uriRef', (v) => URL.canParse(v, 'http://relative.invalid/')],
      ['uuid', (v) => UUID.test(v)],
    ];
    for (const [name, test] of wellKnown) {
      if (rules[name] === true && !test(value)) this.report(at, `${shown} is not a valid ${name}`);
    }
    const strict = rules['strict'] !== false; // [default = true]
    if (rules['wellKnownRegex'] === 'HTTP_HEADER_NAME' && !(strict ? HEADER_NAME_STRICT.test(value) : headerLoose(value))) {
      this.report(at, `${shown} is not a valid HTTP header name`);
    }
    if (rules['wellKnownRegex'] === 'HTTP_HEADER_VALUE' && !(strict ? headerValueStrict(value) : headerLoose(value))) {
      this.report(at, `${shown} is not a valid HTTP header value`);
    }
  }

  private lengths(length: number, exact: JsonValue | undefined, min: JsonValue | undefined, max: JsonValue | undefined, unit: string, at: readonly PathSegment[]): void {
    const exactly = toNumber(exact);
    const atLeast = toNumber(min);
    const atMost = toNumber(max);
    if (exactly !== undefined && length !== exactly) this.report(at, `must be ${exactly} ${unit}(s) long, is ${length}`);
    if (atLeast !== undefined && length < atLeast) {
      this.report(at, atLeast === 1 && length === 0 ? 'must not be empty' : `must be at least ${atLeast} ${unit}(s) long, is ${length}`);
    }
    if (atMost !== undefined && length > atMost) this.report(at, `must be at most ${atMost} ${unit}(s) long, is ${length}`);
  }
}

function requiresPresence(rules: JsonObject | undefined): boolean {
  if (!rules) return false;
  return ['message', 'duration', 'any', 'timestamp'].some((key) => asObject(rules[key])?.['required'] === true);
}

function elementKind(field: DescField): ValueKind {
  if (field.fieldKind === 'list') {
    if (field.listKind === 'message') return { kind: 'message', desc: field.message };
    if (field.listKind === 'enum') return { kind: 'enum', desc: field.enum };
    return { kind: 'scalar', scalar: field.scalar };
  }
  if (field.fieldKind === 'map') {
    if (field.mapKind === 'message') return { kind: 'message', desc: field.message };
    if (field.mapKind === 'enum') return { kind: 'enum', desc: field.enum };
    return { kind: 'scalar', scalar: field.scalar };
  }
  throw new Error(`${field.name} is not a list or map`);
}

function enumName(desc: DescEnum, value: JsonValue | undefined): string {
  return desc.values.find((v) => v.number === value)?.name ?? String(value);
}

export function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function asArray(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

function asStrings(value: JsonValue | undefined): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string');
}

function toNumber(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** JSON numbers stay numbers; 64-bit integers (JSON strings) become bigints. */
function toNumeric(value: JsonValue | undefined): number | bigint | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return toNumber(value);
}

function compare(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function durationNanos(m: ReflectMessage): bigint {
  let seconds = 0n;
  let nanos = 0n;
  for (const field of m.desc.fields) {
    const value: unknown = m.get(field);
    if (field.name === 'seconds' && (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string')) seconds = BigInt(value);
    if (field.name === 'nanos' && typeof value === 'number') nanos = BigInt(value);
  }
  return seconds * 1_000_000_000n + nanos;
}

/** "1.5s" (proto3 JSON) → nanoseconds. */
function parseJsonDuration(text: string): bigint {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!match) throw new Error(`not a JSON duration: ${text}`);
  const nanos = BigInt(match[2] ?? '0') * 1_000_000_000n + BigInt((match[3] ?? '').padEnd(9, '0'));
  return match[1] ? -nanos : nanos;
}

function formatNanos(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  const fraction = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${abs / 1_000_000_000n}${fraction ? `.${fraction}` : ''}s`;
}
