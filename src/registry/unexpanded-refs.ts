// Which `$ref`s the validator need not expand. @readme/openapi-parser validates a description by
// expanding every `$ref` and checking the expanded tree against the OpenAPI schema, so a schema
// used in a thousand places is checked a thousand times: GitHub's description (260,000 values as
// written) expands to 2 million, and that walk was most of a cold policy load.
//
// A `$ref` can stay a `$ref` without the check losing anything when (1) the place it stands
// accepts "X or Reference" in the OpenAPI schema, (2) what it names is a whole component of that
// same kind X, checked anyway where the document defines it, and (3) none of the parser's own
// checks (path parameters, duplicate operationIds, array schemas without items, component names)
// reads through it. Three kinds of place qualify:
// - inside a schema, a `$ref` to a component schema: every place a `$ref` may stand there is a
//   schema slot ("Schema or Reference" in the OpenAPI 3.0 schema; 3.1 does not look inside schemas
//   at all), and the parser's checks never look below the top of a schema. The parser already
//   treats a circular `$ref` that way.
// - a `schema` slot (of a media type, parameter or header) naming a component schema: the slot is
//   "Schema or Reference" too, and the one check that reads it, "an array must have items", reads
//   the top of the schema only; a `$ref` to a schema that check would refuse stays expanded.
// - an entry of an `examples` map naming a component example ("Example or Reference"): no check of
//   the parser reads examples.
// Everything else (parameters, responses, request bodies, headers, path items) is read by the
// parser's checks and stays expanded, so they see what they saw before.
//
// Those `$ref`s are made ones the parser does not follow (a fragment not starting "#/") for the
// one validation, and restored afterwards. This only ever decides how a valid document is checked:
// a document with any problem is loaded again the thorough way, every `$ref` expanded (openapi.ts).

import { asJsonObject as asObject } from '../json-object.js';

type Json = Record<string, unknown>;

/** Not a JSON pointer, so the parser leaves it alone; the original follows it, to restore. */
const PARKED = '#keycard-unexpanded:';
/** A whole component named as the OpenAPI 3.0 component-name rule allows (no escaping): its kind and name. */
const COMPONENT = /^#\/components\/(schemas|examples)\/([A-Za-z0-9._-]+)$/;

export interface RefPlan {
  /** The document names another file (its `$ref`s must be resolved across files). */
  readonly external: boolean;
  /** The `$ref` objects that will stay unexpanded once parked. */
  readonly unexpanded: ReadonlySet<object>;
  /** Makes the `unexpanded` references ones the parser does not follow. */
  park(): void;
  /** Puts them back as written. */
  restore(): void;
}

/**
 * Where a value stands: above any schema, in a `schema` slot, a component schema (the entries of
 * components/schemas), inside a schema, an `examples` map above any schema, or an entry of one.
 */
const ABOVE = 1;
const SLOT = 2;
const SCHEMA = 3;
const INSIDE = 4;
const EXAMPLES = 5;
const EXAMPLE = 6;

/**
 * Plans one document (the root file's value, as written), or returns undefined when it cannot be
 * walked (a YAML alias cycle). Nothing is parked when a schema carries `$id` or `$schema`: those
 * change what a `$ref` inside it resolves against.
 */
export function planRefs(root: Json): RefPlan | undefined {
  const components = asObject(root.components);
  const schemas = asObject(components?.schemas);
  const examples = asObject(components?.examples);
  const candidates: Json[] = [];
  // A value shared by YAML aliases is visited at each place it stands; one that stands anywhere
  // a `$ref` must stay expanded is kept expanded everywhere.
  const exposed = new Set<object>();
  let external = false;
  let scoped = false;
  const visit = (node: unknown, place: number): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      // The items of a list are not the entries of a map (the schema requires `examples` to be a map).
      for (const item of node as unknown[]) visit(item, place === EXAMPLES ? ABOVE : place);
      return;
    }
    const object = node as Json;
    if (typeof object.$id === 'string' || typeof object.$schema === 'string') scoped = true;
    const ref = object.$ref;
    if (typeof ref === 'string') {
      if (!ref.startsWith('#')) external = true;
      if (parkable(object, ref, place)) candidates.push(object);
      else exposed.add(object);
    }
    for (const key in object) visit(object[key], placeOf(place, key, object));
  };
  const placeOf = (place: number, key: string, parent: Json): number => {
    if (place === SLOT || place === SCHEMA || place === INSIDE) return INSIDE;
    if (place === EXAMPLES) return EXAMPLE;
    if (parent === schemas) return SCHEMA;
    if (key === 'schema') return SLOT;
    return key === 'examples' ? EXAMPLES : ABOVE;
  };
  const parkable = (object: Json, ref: string, place: number): boolean => {
    // Keys written beside a `$ref` are merged in by the parser: only a `$ref` alone stands for its target.
    if (Object.keys(object).length !== 1) return false;
    const [, kind, name] = COMPONENT.exec(ref) ?? [];
    if (name === undefined) return false;
    if (kind === 'examples') return place === EXAMPLE && examples !== undefined && Object.hasOwn(examples, name);
    if (schemas === undefined || !Object.hasOwn(schemas, name)) return false;
    return place === INSIDE || (place === SLOT && passesTopLevelCheck(schemas[name]));
  };
  try {
    visit(root, ABOVE);
  } catch (error) {
    // Recursion is several times faster than an explicit stack here; only a cycle goes this deep.
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  const unexpanded = new Set<object>(scoped ? [] : candidates.filter((object) => !exposed.has(object)));
  const written = new Map<object, string>();
  return {
    external,
    unexpanded,
    park() {
      for (const object of unexpanded) {
        const ref = (object as Json).$ref as string;
        written.set(object, ref);
        (object as Json).$ref = `${PARKED}${ref}`;
      }
    },
    restore() {
      for (const [object, ref] of written) (object as Json).$ref = ref;
      written.clear();
    },
  };
}

/**
 * Whether the parser's one check of a schema slot, "an array schema must have items" (written
 * `type === 'array' && !items` in its source), passes for `schema` in the slot. A schema that is
 * itself a `$ref` stands for another one: kept expanded too, so the check sees what it saw.
 */
function passesTopLevelCheck(schema: unknown): boolean {
  const object = asObject(schema);
  return object !== undefined && !('$ref' in object) && !(object.type === 'array' && !object.items);
}
