// CheckRequest (Envoy ext_authz v3) → AuthzInput. Envoy sends headers either as the `headers`
// map or, with `encode_raw_headers`, as `header_map`; both are read. The filter metadata Envoy
// sends (`metadata_context_namespaces`, e.g. jwt_authn's verified payload) becomes plain JSON.
import type { AuthzInput } from '../pipeline/types.js';
import { filterMetadataToJson, type StructView } from './struct-json.js';

type Maybe<T> = T | null | undefined;

/**
 * The parts of a CheckRequest keycard reads. Both proto-loader's objects (CheckRequest__Output)
 * and protobufjs's decoded messages (check-codec.ts) have this shape.
 */
export interface CheckRequestView {
  readonly attributes?: Maybe<{
    readonly source?: Maybe<{ readonly address?: Maybe<{ readonly socket_address?: Maybe<{ readonly address?: string }> }>; readonly principal?: string }>;
    readonly request?: Maybe<{
      readonly http?: Maybe<{
        readonly id?: string;
        readonly method?: string;
        readonly host?: string;
        readonly path?: string;
        readonly headers?: Maybe<Readonly<Record<string, string>>>;
        readonly header_map?: Maybe<{ readonly headers?: Maybe<readonly { readonly key: string; readonly value: string; readonly raw_value: Uint8Array }[]> }>;
      }>;
    }>;
    readonly context_extensions?: Maybe<Readonly<Record<string, string>>>;
    /** envoy.config.core.v3.Metadata: `filter_metadata` is map<string, google.protobuf.Struct>. */
    readonly metadata_context?: Maybe<{ readonly filter_metadata?: Maybe<Readonly<Record<string, Maybe<StructView>>>> }>;
  }>;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

export function checkRequestToInput(request: CheckRequestView): AuthzInput {
  const attributes = request.attributes;
  const http = attributes?.request?.http;
  const headers = new Map<string, string>();
  const plain = http?.headers;
  if (plain) for (const name in plain) headers.set(name.toLowerCase(), plain[name]!);
  for (const entry of http?.header_map?.headers ?? []) {
    const name = entry.key.toLowerCase();
    const value = entry.raw_value.length > 0 ? utf8(entry.raw_value) : entry.value;
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  const contextExtensions = attributes?.context_extensions ?? EMPTY;
  const source = attributes?.source;
  const filterMetadata = filterMetadataToJson(attributes?.metadata_context?.filter_metadata);
  return {
    method: (http?.method || headers.get(':method') || '').toUpperCase(),
    host: http?.host || headers.get(':authority') || headers.get('host') || '',
    path: http?.path || headers.get(':path') || '',
    headers,
    service: contextExtensions.service,
    source: {
      address: source?.address?.socket_address?.address || undefined,
      principal: source?.principal || undefined,
    },
    ...(filterMetadata && { filterMetadata }),
    contextExtensions,
    requestId: http?.id || headers.get('x-request-id') || undefined,
  };
}

function utf8(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
}
