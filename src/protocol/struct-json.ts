// google.protobuf.Struct (as either decoder hands it over) → plain JSON, for the CheckRequest's
// metadata_context.filter_metadata (e.g. the payload Envoy's jwt_authn filter verified). The
// result is frozen, its objects have no prototype (a "__proto__" key is an ordinary key, never a
// prototype change), and nesting is bounded.

type Maybe<T> = T | null | undefined;

/** google.protobuf.Struct, snake_case as both proto-loader (keepCase) and protobufjs read it. */
export interface StructView {
  readonly fields?: Maybe<Readonly<Record<string, ValueView>>>;
}

/**
 * google.protobuf.Value. `kind` names the member of the oneof that is set: proto-loader (with
 * `oneofs: true`) writes it on the object, protobufjs's decoded messages have it as a getter.
 */
export interface ValueView {
  readonly kind?: Maybe<string>;
  readonly null_value?: unknown;
  readonly number_value?: Maybe<number>;
  readonly string_value?: Maybe<string>;
  readonly bool_value?: Maybe<boolean>;
  readonly struct_value?: Maybe<StructView>;
  readonly list_value?: Maybe<{ readonly values?: Maybe<readonly ValueView[]> }>;
}

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Deepest nesting of structs and lists converted; a deeper Struct is unreadable as a whole. */
export const MAX_STRUCT_DEPTH = 32;

/**
 * A filter's metadata that could not be converted (nested deeper than MAX_STRUCT_DEPTH). It
 * stands in for the whole namespace, so a reader can refuse it precisely instead of seeing a
 * silently truncated payload.
 */
export class UnreadableMetadata {
  constructor(readonly problem: string) {
    Object.freeze(this);
  }
}

const KINDS = ['null_value', 'number_value', 'string_value', 'bool_value', 'struct_value', 'list_value'] as const;
type Kind = (typeof KINDS)[number];

class TooDeep extends Error {}

/** `filter_metadata` (filter name → Struct) as plain JSON by filter name. */
export function filterMetadataToJson(metadata: Maybe<Readonly<Record<string, Maybe<StructView>>>>): Readonly<Record<string, unknown>> | undefined {
  if (!metadata) return undefined;
  const names = Object.keys(metadata);
  if (names.length === 0) return undefined;
  const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const name of names) {
    try {
      result[name] = structToJson(metadata[name], 1);
    } catch (error) {
      if (!(error instanceof TooDeep)) throw error;
      result[name] = new UnreadableMetadata(`metadata of ${name} is nested deeper than ${MAX_STRUCT_DEPTH} levels`);
    }
  }
  return Object.freeze(result);
}

function structToJson(struct: Maybe<StructView>, depth: number): { readonly [key: string]: JsonValue } {
  if (depth > MAX_STRUCT_DEPTH) throw new TooDeep();
  const object: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  const fields = struct?.fields;
  // Own keys only: a decoder that met a "__proto__" map key may have set a prototype on `fields`.
  if (fields) for (const key of Object.keys(fields)) object[key] = valueToJson(fields[key], depth);
  return Object.freeze(object);
}

function valueToJson(value: Maybe<ValueView>, depth: number): JsonValue {
  if (!value) return null;
  switch (kindOf(value)) {
    case 'number_value': {
      const number = value.number_value;
      // JSON has no NaN or Infinity; a claim such as exp must never be one.
      return typeof number === 'number' && Number.isFinite(number) ? number : null;
    }
    case 'string_value':
      return typeof value.string_value === 'string' ? value.string_value : null;
    case 'bool_value':
      return value.bool_value === true;
    case 'struct_value':
      return structToJson(value.struct_value, depth + 1);
    case 'list_value': {
      if (depth + 1 > MAX_STRUCT_DEPTH) throw new TooDeep();
      const values = value.list_value?.values ?? [];
      return Object.freeze(values.map((item) => valueToJson(item, depth + 1)));
    }
    default:
      // null_value, or a Value with nothing set.
      return null;
  }
}

function kindOf(value: ValueView): Kind | undefined {
  const kind = value.kind;
  if (typeof kind === 'string') return (KINDS as readonly string[]).includes(kind) ? (kind as Kind) : undefined;
  // An object built by hand, without the oneof's name: the member that is present.
  return KINDS.find((name) => Object.hasOwn(value, name) && value[name] !== undefined && value[name] !== null);
}
