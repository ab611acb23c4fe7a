// JSON objects (mappings) among parsed values: API descriptions, request bodies. An array or null
// is not one; the prototype is not looked at (a parsed value's is Object.prototype).

export type JsonRecord = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a JSON object, else undefined. */
export function asJsonObject(value: unknown): JsonRecord | undefined {
  return isJsonObject(value) ? value : undefined;
}
