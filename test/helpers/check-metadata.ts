// CheckRequests as Envoy sends them with an mTLS peer (source.principal) and filter metadata
// (metadata_context.filter_metadata, e.g. jwt_authn's verified payload).
import type { CheckRequest } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { Struct } from '../../src/protocol/generated/google/protobuf/Struct.js';

/** JSON → google.protobuf.Value as proto-loader (keepCase: snake_case) encodes it. */
export function toValue(value: unknown): object {
  if (value === null) return { null_value: 'NULL_VALUE' };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (Array.isArray(value)) return { list_value: { values: value.map(toValue) } };
  return { struct_value: toStruct(value as Record<string, unknown>) };
}

/**
 * JSON object → google.protobuf.Struct. Keys are defined, not assigned, so a "__proto__" key
 * stays a key. (The generated Struct type says camelCase; the loader reads snake_case.)
 */
export function toStruct(object: Record<string, unknown>): Struct {
  const fields: Record<string, object> = {};
  for (const key of Object.keys(object)) Object.defineProperty(fields, key, { value: toValue(object[key]), enumerable: true });
  return { fields } as unknown as Struct;
}

export interface PeerAndMetadata {
  /** source.principal: the peer certificate's URI SAN or subject. */
  readonly principal?: string;
  /** filter name → JSON object, sent as metadata_context.filter_metadata. */
  readonly metadata?: Readonly<Record<string, Record<string, unknown>>>;
}

/** `request` with the peer principal and filter metadata Envoy would add. */
export function withPeerAndMetadata(request: CheckRequest, { principal, metadata }: PeerAndMetadata): CheckRequest {
  const attributes = request.attributes ?? {};
  return {
    ...request,
    attributes: {
      ...attributes,
      ...(principal !== undefined && { source: { ...attributes.source, principal } }),
      ...(metadata && { metadata_context: { filter_metadata: Object.fromEntries(Object.entries(metadata).map(([name, object]) => [name, toStruct(object)])) } }),
    },
  };
}
