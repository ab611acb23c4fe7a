// Tokens: algorithm confusion, key-fetching headers, kid injection, crit and unencoded payloads,
// nested and encrypted tokens, duplicate members, size and shape, time claims, issuer, audience,
// typ, and claims that would inject into the identity headers keycard forwards.
import { allow, deny, perCtx, type AdversarialCase } from '../case.js';
import { AUDIENCE, checkRequest, iss, type Ctx, type RequestSpec } from '../harness.js';
import { b64url, compact, compactRaw, jsonMembers, nowSeconds } from '../tokens.js';

/** GET /orders/42 on shop (alice, a customer, may) with this Authorization header. */
const order = (authorization: string, extra: Partial<RequestSpec> = {}) => checkRequest({ path: '/orders/42', ...extra, headers: { authorization, ...extra.headers } });
const bearerOrder = (token: (ctx: Ctx) => string) => (ctx: Ctx) => order(`Bearer ${token(ctx)}`);

/** The default claims as JSON text, with `extra` members appended (duplicates allowed). */
function claimsText(extra: readonly (readonly [string, unknown])[] = [], omit: readonly string[] = []): string {
  const now = nowSeconds();
  const base: [string, unknown][] = [
    ['iss', iss('file')],
    ['aud', AUDIENCE],
    ['sub', 'alice'],
    ['iat', now],
    ['exp', now + 600],
  ];
  return jsonMembers([...base.filter(([name]) => !omit.includes(name)), ...extra]);
}

const now = nowSeconds;

export const algorithmCases: AdversarialCase[] = [
  { name: 'a valid ES256 token from the JWKS file (baseline)', request: bearerOrder((c) => c.jwt()), expect: allow('alice') },
  { name: 'a valid RS256 token from the HTTP JWKS (baseline)', request: bearerOrder((c) => c.jwt({ key: c.keys.http, claims: { iss: iss('http') } })), expect: allow('alice') },
  ...['none', 'None', 'NONE', 'nOnE'].flatMap((alg): AdversarialCase[] => [
    {
      name: `alg "${alg}" with an empty signature`,
      request: bearerOrder(() => compact(jsonMembers([['alg', alg], ['typ', 'JWT']]), claimsText(), { kind: 'raw', signature: '' })),
      expect: deny(401, 'disallowed_algorithm'),
    },
    {
      name: `alg "${alg}" with a trusted kid and a copied signature`,
      request: bearerOrder((c) => {
        const real = c.jwt().split('.')[2]!;
        return compact(jsonMembers([['alg', alg], ['kid', c.keys.file.kid]]), claimsText(), { kind: 'raw', signature: real });
      }),
      expect: deny(401, 'disallowed_algorithm'),
    },
  ]),
  {
    name: 'alg missing from the header',
    request: bearerOrder((c) => c.jwt({ header: { alg: undefined } })),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'alg as an array',
    request: bearerOrder((c) => c.jwt({ header: { alg: ['ES256'] } })),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'HS256 keyed with the issuer public JWK (RS/HS confusion)',
    request: bearerOrder((c) => c.jwt({ header: { alg: 'HS256', kid: c.keys.fileRs.kid }, signer: { kind: 'hmac', secret: JSON.stringify(c.keys.fileRs.publicJwk) } })),
    expect: deny(401, 'disallowed_algorithm'),
  },
  {
    name: 'HS256 keyed with the issuer public key modulus',
    request: bearerOrder((c) => c.jwt({ header: { alg: 'HS256', kid: c.keys.fileRs.kid }, signer: { kind: 'hmac', secret: Buffer.from(c.keys.fileRs.publicJwk.n!, 'base64url') } })),
    expect: deny(401, 'disallowed_algorithm'),
  },
  {
    name: 'HS512 with a guessable secret',
    request: bearerOrder((c) => c.jwt({ header: { alg: 'HS512', kid: undefined }, signer: { kind: 'hmac', secret: 'secret', hash: 'sha512' } })),
    expect: deny(401, 'disallowed_algorithm'),
  },
  {
    name: 'ES256 in the header, signed with the RSA key of the same issuer (kid of the RSA key)',
    request: bearerOrder((c) => c.jwt({ key: c.keys.fileRs, header: { alg: 'ES256' } })),
    expect: deny(401, 'unknown_key'),
  },
  {
    name: 'RS256 by a trusted key, for an issuer that only allows RS256 elsewhere (http-idp token signed by file-idp RSA key)',
    request: bearerOrder((c) => c.jwt({ key: c.keys.fileRs, claims: { iss: iss('http') } })),
    expect: deny(401, 'unknown_key'),
  },
  {
    name: 'ES256 token for an issuer that allows only RS256',
    request: bearerOrder((c) => c.jwt({ claims: { iss: iss('http') } })),
    expect: deny(401, 'disallowed_algorithm'),
  },
  {
    name: 'an algorithm keycard never accepts (ES256K)',
    request: bearerOrder((c) => c.jwt({ header: { alg: 'ES256K' } })),
    expect: deny(401, 'disallowed_algorithm'),
  },
  {
    name: 'a trusted kid, signed by the attacker',
    request: bearerOrder((c) => c.jwt({ signer: { kind: 'key', key: c.keys.attacker } })),
    expect: deny(401, 'invalid_signature'),
  },
  {
    name: 'a valid token whose payload was changed after signing',
    request: bearerOrder((c) => {
      const [header, , signature] = c.jwt().split('.');
      return `${header}.${b64url(claimsText([['sub', 'root']], ['sub']))}.${signature}`;
    }),
    expect: deny(401, 'invalid_signature'),
  },
  {
    name: 'a valid token with its signature removed',
    request: bearerOrder((c) => `${c.jwt().split('.').slice(0, 2).join('.')}.`),
    expect: deny(401, 'invalid_signature'),
  },
  {
    name: 'a valid token with a truncated signature',
    request: bearerOrder((c) => c.jwt().slice(0, -10)),
    expect: deny(401, 'invalid_signature'),
  },
];

export const keyFetchCases: AdversarialCase[] = [
  {
    name: 'jku naming an attacker JWKS',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { jku: c.server.url('/canary/jku') } })),
    expect: deny(401, 'unknown_key'),
    verify: (c) => expectNoCanary(c),
  },
  {
    name: 'x5u naming an attacker certificate',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { x5u: c.server.url('/canary/x5u') } })),
    expect: deny(401, 'unknown_key'),
    verify: (c) => expectNoCanary(c),
  },
  {
    name: 'embedded jwk of the attacker key, attacker kid',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { jwk: c.keys.attacker.publicJwk } })),
    expect: deny(401, 'unknown_key'),
  },
  {
    name: 'embedded jwk of the attacker key, no kid',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { kid: undefined, jwk: c.keys.attacker.publicJwk } })),
    expect: deny(401, 'invalid_signature'),
  },
  {
    name: 'embedded jwk of the attacker key under a trusted kid',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { kid: c.keys.file.kid, jwk: c.keys.attacker.publicJwk } })),
    expect: deny(401, 'invalid_signature'),
  },
  {
    name: 'x5c with a junk chain, attacker-signed under a trusted kid',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { kid: c.keys.file.kid, x5c: ['MIIBjunk'] } })),
    expect: deny(401, 'invalid_signature'),
  },
  {
    name: 'jku and jwk beside a trusted signature: ignored, the token is valid',
    request: bearerOrder((c) => c.jwt({ header: { jku: c.server.url('/canary/jku'), jwk: c.keys.attacker.publicJwk } })),
    expect: allow('alice'),
    verify: (c) => expectNoCanary(c),
  },
];

function expectNoCanary(c: Ctx): void {
  const hits = c.server.hitsUnder('/canary/');
  if (hits !== 0) throw new Error(`keycard fetched a URL a token named (${hits} requests under /canary/)`);
}

const KID_INJECTIONS: readonly (readonly [string, unknown])[] = [
  ['a path traversal', '../../../../../../dev/null'],
  ['SQL', "' OR '1'='1' --"],
  ['a URL', 'http://127.0.0.1:1/keys'],
  ['CRLF', 'file-es\r\nx-injected: 1'],
  ['a NUL after a trusted kid', 'file-es\u0000'],
  ['a 3 KiB string', 'k'.repeat(3072)],
  ['an object', { $ne: null }],
  ['an array of the trusted kid', ['file-es']],
  ['a number', 1],
  ['null', null],
  ['the trusted kid in upper case', 'FILE-ES'],
];

export const kidCases: AdversarialCase[] = [
  ...KID_INJECTIONS.map(([what, kid]): AdversarialCase => ({
    name: `kid as ${what}, attacker-signed`,
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { kid } })),
    expect: deny(401, 'unknown_key'),
  })),
  {
    name: 'no kid, trusted signature (the one key of that algorithm is tried)',
    request: bearerOrder((c) => c.jwt({ header: { kid: undefined } })),
    expect: allow('alice'),
  },
  {
    name: 'no kid, attacker signature',
    request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, header: { kid: undefined } })),
    expect: deny(401, 'invalid_signature'),
  },
];

export const structureCases: AdversarialCase[] = [
  {
    name: 'crit naming an unknown extension',
    request: bearerOrder((c) => c.jwt({ header: { crit: ['x-must-understand'], 'x-must-understand': true } })),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'crit naming a registered claim',
    request: bearerOrder((c) => c.jwt({ header: { crit: ['exp'] } })),
    expect: deny(401, 'malformed_token'),
  },
  { name: 'crit empty', request: bearerOrder((c) => c.jwt({ header: { crit: [] } })), expect: deny(401, 'malformed_token') },
  { name: 'crit as a string', request: bearerOrder((c) => c.jwt({ header: { crit: 'b64' } })), expect: deny(401, 'malformed_token') },
  {
    name: 'unencoded payload (b64: false, crit: [b64]), trusted signature over the raw payload',
    request: bearerOrder((c) => {
      const header = b64url(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid], ['b64', false], ['crit', ['b64']]]));
      // RFC 7797: the payload travels as is; this one has no "." so it fits the compact form.
      return compactRaw(header, claimsText(), { kind: 'key', key: c.keys.file });
    }),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'unencoded payload, detached (empty payload part)',
    request: bearerOrder((c) => {
      const header = b64url(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid], ['b64', false], ['crit', ['b64']]]));
      const signed = compactRaw(header, claimsText(), { kind: 'key', key: c.keys.file });
      const [h, , s] = signed.split('.');
      return `${h}..${s}`;
    }),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'nested JWT (cty: JWT), outer trusted signature around an attacker token',
    request: bearerOrder((c) => {
      const inner = c.jwt({ key: c.keys.attacker, claims: { sub: 'root' } });
      return compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid], ['cty', 'JWT']]), JSON.stringify(inner), { kind: 'key', key: c.keys.file });
    }),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'nested JWT whose payload is the bare inner token',
    request: bearerOrder((c) => {
      const inner = c.jwt({ claims: { sub: 'root' } });
      return compactRaw(b64url(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid], ['cty', 'JWT']])), b64url(inner), { kind: 'key', key: c.keys.file });
    }),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'a JWE (five parts, dir + A256GCM)',
    request: (c) => order(`Bearer ${c.jwe}`),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'a JWE-shaped string of five junk parts',
    request: () => order('Bearer eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'JWS JSON serialization instead of compact',
    request: bearerOrder((c) => {
      const [protectedHeader, payload, signature] = c.jwt().split('.');
      return JSON.stringify({ protected: protectedHeader, payload, signature });
    }),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'duplicate "sub" in the payload, trusted signature (last would win in JSON.parse)',
    request: bearerOrder((c) => compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid]]), claimsText([['sub', 'root']]), { kind: 'key', key: c.keys.file })),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'duplicate "sub" spelled with a \\u escape, trusted signature',
    request: bearerOrder((c) =>
      compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid]]), claimsText().replace(/}$/, ',"s\\u0075b":"root"}'), { kind: 'key', key: c.keys.file }),
    ),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'duplicate "kid" in the header, trusted signature',
    request: bearerOrder((c) => compact(jsonMembers([['alg', 'ES256'], ['kid', 'attacker'], ['kid', c.keys.file.kid]]), claimsText(), { kind: 'key', key: c.keys.file })),
    expect: deny(401, 'malformed_token'),
  },
  {
    name: 'duplicate "alg" in the header (ES256 then none)',
    request: bearerOrder((c) => compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid], ['alg', 'none']]), claimsText(), { kind: 'key', key: c.keys.file })),
    expect: deny(401, 'disallowed_algorithm'),
  },
  {
    name: 'the same member name inside two nested objects is no duplicate',
    request: bearerOrder((c) => c.jwt({ claims: { a: { id: 1 }, b: { id: 2 }, c: [{ id: 3 }, { id: 4 }] } })),
    expect: allow('alice'),
  },
  {
    name: '__proto__ and constructor claims are plain data',
    request: bearerOrder((c) =>
      compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid]]), claimsText([['__proto__', { roles: ['admin'] }], ['constructor', { prototype: { admin: true } }]]), { kind: 'key', key: c.keys.file }),
    ),
    expect: allow('alice'),
  },
];

const OVERSIZE_PADDING = 'x'.repeat(9000);

export const shapeCases: AdversarialCase[] = [
  { name: 'a token of 9 KB (over jwt.maxTokenBytes)', request: bearerOrder((c) => c.jwt({ claims: { pad: OVERSIZE_PADDING } })), expect: deny(401, 'token_too_large') },
  { name: 'a 60 KB token of junk', request: () => order(`Bearer ${'A'.repeat(60_000)}`), expect: deny(401, 'token_too_large') },
  { name: 'three junk parts', request: () => order('Bearer abc.def.ghi'), expect: deny(401, 'malformed_token') },
  { name: 'only dots', request: () => order('Bearer ..'), expect: deny(401, 'malformed_token') },
  { name: 'two parts', request: () => order('Bearer eyJhbGciOiJFUzI1NiJ9.e30'), expect: deny(401, 'malformed_token') },
  { name: 'four parts', request: bearerOrder((c) => `${c.jwt()}.x`), expect: deny(401, 'malformed_token') },
  { name: 'standard base64 with padding and "+/"', request: bearerOrder((c) => c.jwt().replace(/-/g, '+').replace(/_/g, '/') + '=='), expect: deny(401, 'malformed_token') },
  // jose decodes the signature leniently (padding, "+/"): only the signing input must be exact, so
  // a re-spelled signature verifies unless keycard insists on base64url itself (the case above
  // passed only when the header and payload happened to hold no "-" or "_").
  { name: 'a valid token with "==" padding after the signature', request: bearerOrder((c) => `${c.jwt()}==`), expect: deny(401, 'malformed_token') },
  { name: 'non-ASCII in the token', request: bearerOrder((c) => `${c.jwt()}é`), expect: deny(401, 'malformed_token') },
  { name: 'header that is not JSON', request: () => order(`Bearer ${b64url('{alg:ES256')}.${b64url(claimsText())}.sig`), expect: deny(401, 'malformed_token') },
  { name: 'header that is not JSON, claims without iss', request: () => order(`Bearer ${b64url('{alg:ES256')}.${b64url('{}')}.sig`), expect: deny(401, 'untrusted_issuer') },
  { name: 'header that is a JSON array', request: () => order(`Bearer ${b64url('["ES256"]')}.${b64url(claimsText())}.sig`), expect: deny(401, 'malformed_token') },
  { name: 'payload that is a JSON string', request: bearerOrder((c) => compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid]]), '"alice"', { kind: 'key', key: c.keys.file })), expect: deny(401, 'malformed_token') },
  { name: 'payload that is JSON null', request: bearerOrder((c) => compact(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid]]), 'null', { kind: 'key', key: c.keys.file })), expect: deny(401, 'malformed_token') },
  { name: 'payload that is not UTF-8', request: bearerOrder((c) => compactRaw(b64url(jsonMembers([['alg', 'ES256'], ['kid', c.keys.file.kid]])), b64url(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])), { kind: 'key', key: c.keys.file })), expect: deny(401, 'malformed_token') },
  { name: '"Bearer" without a token', request: () => order('Bearer'), expect: deny(401, 'malformed_credential') },
  { name: '"Bearer " and spaces', request: () => order('Bearer    '), expect: deny(401, 'malformed_credential') },
  { name: 'two tokens in one Bearer header', request: (c) => order(`Bearer ${c.jwt()} ${c.jwt({ claims: { sub: 'root' } })}`), expect: deny(401, 'malformed_credential') },
  { name: '"Bearer" twice in one header', request: (c) => order(`Bearer ${c.jwt()}, Bearer ${c.jwt({ claims: { sub: 'root' } })}`), expect: deny(401, 'malformed_credential') },
  { name: 'a token followed by a newline and junk', request: (c) => order(`Bearer ${c.jwt()}\nx-keycard-subject: root`), expect: deny(401, 'malformed_credential') },
  { name: 'lower-case scheme, extra spaces: still one valid token', request: (c) => order(`  bearer   ${c.jwt()}  `), expect: allow('alice') },
  { name: 'another scheme (Basic) is no credential', request: () => order('Basic YWxpY2U6cGFzc3dvcmQ='), expect: deny(401, 'authentication_required') },
  { name: 'a "Bearer"-prefixed word is another scheme', request: (c) => order(`Bearertoken ${c.jwt()}`), expect: deny(401, 'authentication_required') },
];

export const timeCases: AdversarialCase[] = [
  { name: 'exp two minutes ago', request: bearerOrder((c) => c.jwt({ claims: { exp: now() - 120 } })), expect: deny(401, 'token_expired') },
  { name: 'exp ten seconds ago (within the 30s clock skew)', request: bearerOrder((c) => c.jwt({ claims: { exp: now() - 10 } })), expect: allow('alice') },
  { name: 'exp missing', request: bearerOrder((c) => c.jwt({ claims: { exp: undefined } })), expect: deny(401, 'invalid_claims') },
  { name: 'exp as a string', request: bearerOrder((c) => c.jwt({ claims: { exp: String(now() + 600) } })), expect: deny(401, 'invalid_claims') },
  { name: 'exp a year ahead (beyond jwt.maxTokenLifetime)', request: bearerOrder((c) => c.jwt({ claims: { exp: now() + 365 * 86_400 } })), expect: deny(401, 'invalid_claims') },
  { name: 'exp 1e300', request: bearerOrder((c) => c.jwt({ claims: { exp: 1e300 } })), expect: deny(401, 'invalid_claims') },
  { name: 'exp − iat over the maximum lifetime', request: bearerOrder((c) => c.jwt({ claims: { iat: now() - 2 * 86_400 } })), expect: deny(401, 'invalid_claims') },
  { name: 'nbf five minutes ahead', request: bearerOrder((c) => c.jwt({ claims: { nbf: now() + 300 } })), expect: deny(401, 'token_not_yet_valid') },
  { name: 'nbf ten seconds ahead (within the skew)', request: bearerOrder((c) => c.jwt({ claims: { nbf: now() + 10 } })), expect: allow('alice') },
  { name: 'nbf as a string', request: bearerOrder((c) => c.jwt({ claims: { nbf: 'yesterday' } })), expect: deny(401, 'invalid_claims') },
  { name: 'iat five minutes ahead', request: bearerOrder((c) => c.jwt({ claims: { iat: now() + 300 } })), expect: deny(401, 'token_not_yet_valid') },
  { name: 'iat ten seconds ahead (within the skew)', request: bearerOrder((c) => c.jwt({ claims: { iat: now() + 10 } })), expect: allow('alice') },
  { name: 'iat as a string', request: bearerOrder((c) => c.jwt({ claims: { iat: 'now' } })), expect: deny(401, 'invalid_claims') },
];

export const issuerCases: AdversarialCase[] = [
  { name: 'iss missing', request: bearerOrder((c) => c.jwt({ claims: { iss: undefined } })), expect: deny(401, 'untrusted_issuer') },
  { name: 'iss without its trailing slash', request: bearerOrder((c) => c.jwt({ claims: { iss: iss('file').replace(/\/$/, '') } })), expect: deny(401, 'untrusted_issuer') },
  { name: 'iss in upper case', request: bearerOrder((c) => c.jwt({ claims: { iss: iss('file').toUpperCase() } })), expect: deny(401, 'untrusted_issuer') },
  { name: 'iss as an array holding the issuer', request: bearerOrder((c) => c.jwt({ claims: { iss: [iss('file')] } })), expect: deny(401, 'untrusted_issuer') },
  { name: 'iss of an unknown issuer', request: bearerOrder((c) => c.jwt({ key: c.keys.attacker, claims: { iss: 'https://attacker.test/' } })), expect: deny(401, 'untrusted_issuer') },
  { name: 'iss with a trailing NUL', request: bearerOrder((c) => c.jwt({ claims: { iss: `${iss('file')}\u0000` } })), expect: deny(401, 'untrusted_issuer') },
  {
    name: 'a valid http-idp token where only file-idp is accepted',
    request: (c) => checkRequest({ path: '/things', service: 'api', headers: { authorization: c.bearer({ key: c.keys.http, claims: { iss: iss('http') }, header: { typ: 'at+jwt' } }) } }),
    expect: deny(401, 'untrusted_issuer'),
  },
  { name: 'aud missing', request: bearerOrder((c) => c.jwt({ claims: { aud: undefined } })), expect: deny(401, 'invalid_audience') },
  { name: 'aud of another service', request: bearerOrder((c) => c.jwt({ claims: { aud: 'billing' } })), expect: deny(401, 'invalid_audience') },
  { name: 'aud in another case', request: bearerOrder((c) => c.jwt({ claims: { aud: 'Shop' } })), expect: deny(401, 'invalid_audience') },
  { name: 'aud an empty array', request: bearerOrder((c) => c.jwt({ claims: { aud: [] } })), expect: deny(401, 'invalid_audience') },
  { name: 'aud a number', request: bearerOrder((c) => c.jwt({ claims: { aud: 42 } })), expect: deny(401, 'invalid_audience') },
  { name: 'aud an array holding the audience', request: bearerOrder((c) => c.jwt({ claims: { aud: ['billing', AUDIENCE] } })), expect: allow('alice') },
];

/** Requests to the `api` service, which accepts only `typ: at+jwt` tokens of file-idp. */
const api = (token: (ctx: Ctx) => string) => (ctx: Ctx) => checkRequest({ path: '/things', service: 'api', headers: { authorization: `Bearer ${token(ctx)}` } });

/** One `typ: JWT` token per suite run, so the second request finds it in the token cache. */
const typJwt = perCtx((c) => c.jwt({ header: { typ: 'JWT' } }));

export const typeCases: AdversarialCase[] = [
  { name: 'typ at+jwt', request: api((c) => c.jwt({ header: { typ: 'at+jwt' } })), expect: allow('alice') },
  { name: 'typ application/at+jwt', request: api((c) => c.jwt({ header: { typ: 'application/at+jwt' } })), expect: allow('alice') },
  { name: 'typ AT+JWT', request: api((c) => c.jwt({ header: { typ: 'AT+JWT' } })), expect: allow('alice') },
  { name: 'typ JWT where at+jwt is required', request: api((c) => c.jwt({ header: { typ: 'JWT' } })), expect: deny(401, 'invalid_token_type') },
  { name: 'typ missing', request: api((c) => c.jwt({ header: { typ: undefined } })), expect: deny(401, 'invalid_token_type') },
  { name: 'typ with a trailing space', request: api((c) => c.jwt({ header: { typ: 'at+jwt ' } })), expect: deny(401, 'invalid_token_type') },
  { name: 'typ with a parameter', request: api((c) => c.jwt({ header: { typ: 'at+jwt; charset=utf-8' } })), expect: deny(401, 'invalid_token_type') },
  { name: 'typ id_token+jwt-like lookalike', request: api((c) => c.jwt({ header: { typ: 'at+jwt.evil' } })), expect: deny(401, 'invalid_token_type') },
  { name: 'typ as a number', request: api((c) => c.jwt({ header: { typ: 1 } })), expect: deny(401, 'invalid_token_type') },
  { name: 'typ as an array holding at+jwt', request: api((c) => c.jwt({ header: { typ: ['at+jwt'] } })), expect: deny(401, 'invalid_token_type') },
  {
    name: 'a token verified (and cached) on a service without typ rules, then sent where at+jwt is required',
    prime: (c) => order(`Bearer ${typJwt(c)}`),
    request: (c) => checkRequest({ path: '/things', service: 'api', headers: { authorization: `Bearer ${typJwt(c)}` } }),
    expect: deny(401, 'invalid_token_type'),
  },
];

export const claimInjectionCases: AdversarialCase[] = [
  { name: 'sub with CRLF and a forged header', request: bearerOrder((c) => c.jwt({ claims: { sub: 'alice\r\nx-keycard-roles: admin' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with a bare LF', request: bearerOrder((c) => c.jwt({ claims: { sub: 'alice\nroot' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with a NUL', request: bearerOrder((c) => c.jwt({ claims: { sub: 'alice\u0000root' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with DEL', request: bearerOrder((c) => c.jwt({ claims: { sub: 'alice\u007f' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with a tab', request: bearerOrder((c) => c.jwt({ claims: { sub: 'root\t' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with a leading space (a header parser would drop it)', request: bearerOrder((c) => c.jwt({ claims: { sub: ' root' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with a trailing space', request: bearerOrder((c) => c.jwt({ claims: { sub: 'root ' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub empty', request: bearerOrder((c) => c.jwt({ claims: { sub: '' } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub missing', request: bearerOrder((c) => c.jwt({ claims: { sub: undefined } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub a number', request: bearerOrder((c) => c.jwt({ claims: { sub: 42 } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub an object', request: bearerOrder((c) => c.jwt({ claims: { sub: { id: 'root' } } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub of 257 characters', request: bearerOrder((c) => c.jwt({ claims: { sub: 'a'.repeat(257) } })), expect: deny(401, 'invalid_claims') },
  { name: 'sub with non-ASCII letters is a name like any other', request: bearerOrder((c) => c.jwt({ claims: { sub: 'zoë' } })), expect: deny(403, 'no_matching_rule') },
  { name: 'roles claimed in the token are ignored (roles come from the store)', request: bearerOrder((c) => c.jwt({ claims: { sub: 'mallory', roles: ['support', 'admin'], groups: ['support'] } })), expect: deny(403, 'no_matching_rule') },
];

