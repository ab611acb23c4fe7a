// metadata_context.filter_metadata of a real encoded CheckRequest (map<string, Struct>) becomes
// plain JSON, the same through keycard's decoder and proto-loader's; bounded in depth, and a
// "__proto__" key never changes a prototype.
import { describe, expect, it } from 'vitest';
import { buildCheckRequest } from '../../src/protocol/check-client.js';
import { decodeCheckRequest } from '../../src/protocol/check-codec.js';
import { checkRequestToInput, type CheckRequestView } from '../../src/protocol/check-request.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { filterMetadataToJson, MAX_STRUCT_DEPTH, UnreadableMetadata, type StructView, type ValueView } from '../../src/protocol/struct-json.js';
import { withPeerAndMetadata } from '../helpers/check-metadata.js';

const method = authorizationService().service.Check;

/** A CheckRequest carrying `metadata` (filter name → JSON object) in metadata_context. */
const requestWithMetadata = (metadata: Record<string, Record<string, unknown>>) => withPeerAndMetadata(buildCheckRequest({ path: '/orders/1', service: 'orders' }), { metadata });

/** Both decoders' AuthzInput for the encoded request; they must agree. */
function decodeBothWays(request: object) {
  const bytes = method.requestSerialize(request);
  const ours = checkRequestToInput(decodeCheckRequest(bytes));
  const theirs = checkRequestToInput(method.requestDeserialize(bytes) as CheckRequestView);
  expect(ours).toEqual(theirs);
  return ours;
}

const PAYLOAD = {
  iss: 'https://idp.example/',
  sub: 'alice',
  aud: ['shop', 'billing'],
  exp: 1_800_000_000,
  email_verified: true,
  org: { id: 'acme', teams: [{ name: 'a' }, { name: 'b' }] },
  nothing: null,
  zero: 0,
  empty: '',
  no: false,
};

describe('filter_metadata from a real encoded CheckRequest', () => {
  it('becomes plain JSON by filter name, the same through either decoder', () => {
    const input = decodeBothWays(requestWithMetadata({ 'envoy.filters.http.jwt_authn': { jwt_payload: PAYLOAD }, 'envoy.filters.http.lua': { tenant: 'acme' } }));
    expect(input.filterMetadata).toEqual({ 'envoy.filters.http.jwt_authn': { jwt_payload: PAYLOAD }, 'envoy.filters.http.lua': { tenant: 'acme' } });
  });

  it('is absent without metadata_context, and with an empty one', () => {
    expect(decodeBothWays(buildCheckRequest({ path: '/' })).filterMetadata).toBeUndefined();
    expect(decodeBothWays(requestWithMetadata({})).filterMetadata).toBeUndefined();
  });

  it('is frozen and has no prototypes', () => {
    const metadata = decodeBothWays(requestWithMetadata({ f: { payload: PAYLOAD } })).filterMetadata!;
    const payload = (metadata.f as Record<string, unknown>).payload as Record<string, unknown>;
    expect(Object.isFrozen(metadata)).toBe(true);
    expect(Object.isFrozen(payload)).toBe(true);
    expect(Object.isFrozen(payload.aud)).toBe(true);
    expect(Object.getPrototypeOf(metadata)).toBeNull();
    expect(Object.getPrototypeOf(payload)).toBeNull();
    expect(payload.toString).toBeUndefined();
  });

  it('a "__proto__" key changes no prototype, in the decoded request or in the JSON', () => {
    const hostile: Record<string, unknown> = { sub: 'alice' };
    Object.defineProperty(hostile, '__proto__', { value: { polluted: 'yes', sub: 'root' }, enumerable: true });
    Object.defineProperty(hostile, 'constructor', { value: { prototype: { polluted: 'yes' } }, enumerable: true });
    const input = decodeBothWays(requestWithMetadata({ f: { payload: hostile } }));
    const payload = (input.filterMetadata!.f as Record<string, unknown>).payload as Record<string, unknown>;
    expect(Object.getPrototypeOf(payload)).toBeNull();
    expect(payload.sub).toBe('alice');
    expect(payload.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps a "__proto__" key handed over as an own property as an ordinary key', () => {
    const fields = JSON.parse('{"__proto__": {"string_value": "x", "kind": "string_value"}, "sub": {"string_value": "alice", "kind": "string_value"}}') as Record<string, ValueView>;
    const json = filterMetadataToJson({ f: { fields } })!;
    const f = json.f as Record<string, unknown>;
    expect(Object.getPrototypeOf(f)).toBeNull();
    expect(Object.keys(f)).toEqual(['__proto__', 'sub']);
    expect(f['__proto__']).toBe('x');
  });

  it(`converts ${MAX_STRUCT_DEPTH} levels; a deeper namespace is UnreadableMetadata, the others stay`, () => {
    const nested = (levels: number): Record<string, unknown> => (levels <= 1 ? { leaf: true } : { next: nested(levels - 1) });
    const lists = (levels: number): unknown => (levels <= 0 ? 'leaf' : [lists(levels - 1)]);
    const input = decodeBothWays(
      requestWithMetadata({ ok: nested(MAX_STRUCT_DEPTH), deep: nested(MAX_STRUCT_DEPTH + 1), deepList: { l: lists(MAX_STRUCT_DEPTH) }, fine: { a: 1 } }),
    );
    const metadata = input.filterMetadata!;
    let node = metadata.ok as Record<string, unknown>;
    for (let level = 1; level < MAX_STRUCT_DEPTH; level++) node = node.next as Record<string, unknown>;
    expect(node).toEqual({ leaf: true });
    expect(metadata.deep).toBeInstanceOf(UnreadableMetadata);
    expect((metadata.deep as UnreadableMetadata).problem).toBe(`metadata of deep is nested deeper than ${MAX_STRUCT_DEPTH} levels`);
    expect(metadata.deepList).toBeInstanceOf(UnreadableMetadata);
    expect(metadata.fine).toEqual({ a: 1 });
  });

  it('turns NaN and Infinity (not JSON) into null, so a claim such as exp can never be one', () => {
    const input = decodeBothWays(requestWithMetadata({ f: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ok: 1.5 } }));
    expect(input.filterMetadata).toEqual({ f: { nan: null, inf: null, ok: 1.5 } });
  });

  it('reads a Value with nothing set as null, and hand-built values without `kind`', () => {
    const fields: Record<string, ValueView> = { unset: {}, plain: { string_value: 's' }, list: { list_value: { values: [{ number_value: 2 }] } } };
    expect(filterMetadataToJson({ f: { fields } satisfies StructView })).toEqual({ f: { unset: null, plain: 's', list: [2] } });
  });
});
