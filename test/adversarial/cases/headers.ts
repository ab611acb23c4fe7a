// Headers: spoofed identity headers (every case and spelling, both header encodings), size bombs,
// and requests that carry two credentials.
import { allow, deny, type AdversarialCase } from '../case.js';
import { checkRequest, type Ctx, type RequestSpec } from '../harness.js';

/** Every header keycard owns, as a client might forge it. */
const SPOOFED: Readonly<Record<string, string>> = {
  'x-keycard-subject': 'root',
  'x-keycard-issuer': 'file-idp',
  'x-keycard-roles': 'admin',
  'x-keycard-permissions': 'everything',
  'x-keycard-decision-id': '00000000-0000-0000-0000-000000000000',
  'x-keycard-token': 'forged',
  'x-keycard-anything-new': '1',
};
const SPOOFED_NAMES = Object.keys(SPOOFED);

/** Spellings that many frameworks read as x-keycard-subject (CGI, WSGI, Rack map "_" and "-" alike). */
const UNDERSCORE_SPELLINGS = ['x_keycard_subject', 'x-keycard_roles', 'x_keycard-issuer'];

const spoof = (spec: RequestSpec, token?: (c: Ctx) => string) => (c: Ctx) =>
  checkRequest({ ...spec, headers: { ...SPOOFED, ...spec.headers, ...(token && { authorization: token(c) }) } });

export const spoofingCases: AdversarialCase[] = [
  {
    name: 'anonymous allow: every x-keycard-* header the client sent is stripped',
    request: spoof({ path: '/public/x' }),
    expect: allow(undefined, SPOOFED_NAMES),
  },
  {
    name: 'authenticated allow: identity headers are keycard\'s, the rest stripped',
    request: spoof({ path: '/orders/42' }, (c) => c.bearer()),
    expect: allow('alice', SPOOFED_NAMES),
  },
  {
    name: 'identity headers not forwarded by policy: client copies still stripped',
    request: spoof({ path: '/anything', service: 'quiet' }, (c) => c.bearer()),
    expect: allow(undefined, SPOOFED_NAMES),
  },
  {
    name: 'anonymous allow where identity headers are not forwarded',
    request: spoof({ path: '/open/x', service: 'quiet' }),
    expect: allow(undefined, SPOOFED_NAMES),
  },
  {
    name: 'upper- and mixed-case names in header_map (raw values)',
    request: () =>
      checkRequest({
        path: '/public/x',
        headerMap: [
          ['X-KEYCARD-SUBJECT', 'root'],
          ['X-Keycard-Roles', 'admin'],
          ['x-KeyCard-Issuer', 'file-idp'],
        ],
      }),
    expect: allow(undefined, ['x-keycard-subject', 'x-keycard-roles', 'x-keycard-issuer']),
  },
  {
    name: 'the same spoofed header twice in header_map',
    request: () =>
      checkRequest({
        path: '/public/x',
        headerMap: [
          ['x-keycard-subject', 'root'],
          ['x-keycard-subject', 'admin'],
        ],
      }),
    expect: allow(undefined, ['x-keycard-subject']),
  },
  {
    name: 'underscore spellings that frameworks read as x-keycard-*',
    request: spoof({ path: '/public/x', headers: Object.fromEntries(UNDERSCORE_SPELLINGS.map((name) => [name, 'root'])) }),
    expect: allow(undefined, [...SPOOFED_NAMES, ...UNDERSCORE_SPELLINGS]),
  },
  {
    name: 'underscore spellings on an authenticated allow',
    request: spoof({ path: '/orders/42', headers: Object.fromEntries(UNDERSCORE_SPELLINGS.map((name) => [name, 'root'])) }, (c) => c.bearer()),
    expect: allow('alice', [...SPOOFED_NAMES, ...UNDERSCORE_SPELLINGS]),
  },
  {
    name: 'a spoofed subject does not authenticate',
    request: spoof({ path: '/orders/42' }),
    expect: deny(401, 'authentication_required'),
  },
];

const manyHeaders = (count: number, valueBytes = 1) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-h-${i}`, 'v'.repeat(valueBytes)]));

export const sizeCases: AdversarialCase[] = [
  { name: '129 headers (over limits.maxHeaders)', request: () => checkRequest({ path: '/public/x', headers: manyHeaders(129) }), expect: deny(400, 'request_too_large') },
  { name: '20,000 headers', request: () => checkRequest({ path: '/public/x', headers: manyHeaders(20_000) }), expect: deny(400, 'request_too_large') },
  { name: 'one header of 70 KB', request: () => checkRequest({ path: '/public/x', headers: { 'x-big': 'v'.repeat(70_000) } }), expect: deny(400, 'request_too_large') },
  { name: '100 headers of 700 bytes (70 KB in all)', request: () => checkRequest({ path: '/public/x', headers: manyHeaders(100, 700) }), expect: deny(400, 'request_too_large') },
  {
    // Repeated names are joined with "," (as Envoy's headers map does): one header of 40 KB.
    name: '20,000 header_map entries of one name (joined: within the byte limit)',
    request: () => checkRequest({ path: '/public/x', headerMap: Array.from({ length: 20_000 }, () => ['x-repeat', 'v'] as const) }),
    expect: allow(),
  },
  {
    name: '40,000 header_map entries of one name (joined: over the byte limit)',
    request: () => checkRequest({ path: '/public/x', headerMap: Array.from({ length: 40_000 }, () => ['x-repeat', 'vv'] as const) }),
    expect: deny(400, 'request_too_large'),
  },
  { name: 'a 60 KB query string (within the limits)', request: () => checkRequest({ path: `/public/x?q=${'a'.repeat(60_000)}` }), expect: allow() },
  { name: 'a path of 20,000 segments', request: () => checkRequest({ path: `/public${'/a'.repeat(20_000)}` }), expect: allow() },
  { name: 'a path of 15,000 dot-dot segments', request: () => checkRequest({ path: `/public${'/..'.repeat(15_000)}` }), expect: deny(400, 'invalid_path') },
  { name: 'a path of 15,000 escapes', request: () => checkRequest({ path: `/public/${'%41'.repeat(15_000)}` }), expect: allow() },
  { name: 'a path of 70 KB (over the header byte limit)', request: () => checkRequest({ path: `/public/${'a'.repeat(70_000)}` }), expect: deny(400, 'request_too_large') },
  { name: 'a body of 900 KB (under grpc.maxMessageBytes)', request: (c) => checkRequest({ path: '/orders/42', headers: { authorization: c.bearer() }, body: 'b'.repeat(900_000) }), expect: allow('alice') },
  { name: 'a body of 2 MiB (over grpc.maxMessageBytes): refused by gRPC before keycard', request: () => checkRequest({ path: '/public/x', body: 'b'.repeat(2 * 1024 * 1024) }), expect: { grpcError: 'RESOURCE_EXHAUSTED' } },
];

/** GET on the `multi` service, whose credentials are [jwt, apiKey(header x-api-key, query api_key)]. */
const multi = (spec: Partial<RequestSpec>, token?: (c: Ctx) => string) => (c: Ctx) =>
  checkRequest({ path: '/things', service: 'multi', ...spec, headers: { ...spec.headers, ...(token && { authorization: token(c) }) } });

/** Well-formed (kc_<12 base62>_<43 base64url>) but in no store. */
const API_KEY = `kc_${'A1b2C3d4E5f6'}_${'x'.repeat(43)}`;

export const twoCredentialCases: AdversarialCase[] = [
  {
    name: 'two Authorization headers (header_map), two valid tokens',
    request: (c) => checkRequest({ path: '/orders/42', headerMap: [['authorization', c.bearer()], ['authorization', c.bearer({ claims: { sub: 'root' } })]] }),
    expect: deny(401, 'malformed_credential'),
  },
  {
    name: 'two Authorization headers (header_map), the same token twice',
    request: (c) => {
      const token = c.bearer();
      return checkRequest({ path: '/orders/42', headerMap: [['authorization', token], ['Authorization', token]] });
    },
    expect: deny(401, 'malformed_credential'),
  },
  {
    name: 'Authorization in both the headers map and header_map',
    request: (c) => {
      const request = checkRequest({ path: '/orders/42', headerMap: [['authorization', c.bearer({ claims: { sub: 'root' } })]] });
      request.attributes!.request!.http!.headers = { authorization: c.bearer() };
      return request;
    },
    expect: deny(401, 'malformed_credential'),
  },
  {
    name: 'a token in the header and another in ?access_token: only the header counts, and its caller is forwarded',
    request: (c) => checkRequest({ path: `/orders/42?access_token=${c.jwt({ claims: { sub: 'root' } })}`, headers: { authorization: c.bearer() } }),
    expect: allow('alice'),
  },
  { name: 'a valid JWT alone where JWTs and API keys are accepted (baseline)', request: multi({}, (c) => c.bearer()), expect: allow('alice') },
  { name: 'an API key alone that is in no store', request: multi({ headers: { 'x-api-key': API_KEY } }), expect: deny(401, 'invalid_api_key') },
  {
    name: 'JWT in Authorization and an API key in x-api-key',
    request: multi({ headers: { 'x-api-key': API_KEY } }, (c) => c.bearer()),
    expect: deny(401, 'ambiguous_credentials'),
  },
  {
    name: 'JWT in Authorization and an API key in ?api_key',
    request: multi({ path: `/things?api_key=${API_KEY}` }, (c) => c.bearer()),
    expect: deny(401, 'ambiguous_credentials'),
  },
  {
    name: 'an API key in both x-api-key and ?api_key',
    request: multi({ path: `/things?api_key=${API_KEY}`, headers: { 'x-api-key': API_KEY } }),
    expect: deny(401, 'ambiguous_credentials'),
  },
  { name: 'the API key twice in the query', request: multi({ path: `/things?api_key=${API_KEY}&api_key=${API_KEY}` }), expect: deny(401, 'malformed_credential') },
  {
    name: 'an API key as a Bearer token and again in x-api-key',
    request: multi({ headers: { authorization: `Bearer ${API_KEY}`, 'x-api-key': API_KEY } }),
    expect: deny(401, 'ambiguous_credentials'),
  },
];
