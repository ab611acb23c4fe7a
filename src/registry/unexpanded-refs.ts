// Which `$ref`s the validator need not expand. @readme/openapi-parser validates a description by
// expanding every `$ref` and checking the expanded tree against the OpenAPI schema, so a schema
// used in a thousand places is checked a thousand times: GitHub's description (260,000 values as
// written) expands to 2 million, and that walk was most of a cold policy load.
//
// A `$ref` to a whole component schema, written inside another schema, can stay a `$ref` without
// the check losing anything: inside a schema every place a `$ref` may stand is a schema slot
// ("schema or Reference" in the OpenAPI 3.0 schema; 3.1 does not look inside schemas at all), and
// the schema it names is checked anyway, as a schema, where the document defines it under
// components/schemas. The parser already treats a circular `$ref` that way. Its other checks (path
// parameters, duplicate operationIds, array schemas without items) read operations, parameters,
// responses and the top level of their schemas: everything above the first schema level is still
// expanded, so they see what they saw before.
//
// Those `$ref`s are made ones the parser does not follow (a fragment not starting "#/") for the
// one validation, and restored afterwards.

import { asJsonObject as asObject } from '../json-object.js';

type Json = Record<string, unknown>;

/** Not a JSON pointer, so the parser leaves it alone; the original follows it, to restore. */
const PARKED = '#keycard-unexpanded:';
/** A whole component schema named as the OpenAPI 3.0 component-name rule allows (no escaping). */
const COMPONENT_SCHEMA = /^#\/components\/schemas\/([A-Za-z0-9._-]+)$/;

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

/** Where a value stands: above any schema, at the top of a schema, or inside one. */
const ABOVE = 1;
const SCHEMA = 2;
const INSIDE = 4;

/**
 * Plans one document (the root file's value, as written), or returns undefined when it cannot be
 * walked (a YAML alias cycle). Nothing is parked when a schema carries `$id` or `$schema`: those
 * change what a `$ref` inside it resolves against.
 */
export function planRefs(root: Json): RefPlan | undefined {
  const schemas = asObject(asObject(root.components)?.schemas);
  const candidates: Json[] = [];
  // A value shared by YAML aliases is visited at each place it stands; what stands above a
  // schema, or at its top, is read by the parser's checks and must stay expanded.
  const exposed = new Set<object>();
  let external = false;
  let scoped = false;
  const visit = (node: unknown, place: number): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      for (const item of node as unknown[]) visit(item, place);
      return;
    }
    const object = node as Json;
    if (typeof object.$id === 'string' || typeof object.$schema === 'string') scoped = true;
    const ref = object.$ref;
    if (typeof ref === 'string') {
      if (!ref.startsWith('#')) external = true;
      if (place === INSIDE && isWholeSchemaRef(object, ref, schemas)) candidates.push(object);
      else exposed.add(object);
    }
    for (const key in object) visit(object[key], place !== ABOVE ? INSIDE : key === 'schema' || object === schemas ? SCHEMA : ABOVE);
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

/** `{ $ref: "#/components/schemas/Name" }` alone (no sibling keys the parser would merge in), naming a schema that exists. */
function isWholeSchemaRef(object: Json, ref: string, schemas: Json | undefined): boolean {
  const name = COMPONENT_SCHEMA.exec(ref)?.[1];
  return name !== undefined && schemas !== undefined && Object.hasOwn(schemas, name) && Object.keys(object).length === 1;
}
