// Issuers whose JWKS endpoint misbehaves. keycard must answer at once (or within the issuer's
// jwksTimeout) with 503 jwks_unavailable when it has no keys, or 401 unknown_key when the keys it
// has cannot verify the token, and keep serving every other issuer.
import { allow, deny, type AdversarialCase } from '../case.js';
import { BROKEN_ISSUERS, checkRequest, iss, JWKS_TIMEOUT_MS, type Ctx, type IssuerName } from '../harness.js';

const tokenOf = (issuer: IssuerName, key: (c: Ctx) => Ctx['keys'][keyof Ctx['keys']] = (c) => c.keys.file) => (c: Ctx) =>
  checkRequest({ path: '/orders/42', headers: { authorization: c.bearer({ key: key(c), claims: { iss: iss(issuer) } }) } });

/** A refresh on demand may wait out the issuer's jwksTimeout once; anything slower is a hang. */
const BOUNDED_MS = JWKS_TIMEOUT_MS + 1_500;

const WHY: Readonly<Record<(typeof BROKEN_ISSUERS)[number], string>> = {
  slow: 'never answers',
  trickle: 'sends its body one byte at a time',
  redirect: 'redirects (to a JWKS holding the attacker key)',
  garbage: 'returns HTML, not JSON',
  huge: 'returns 10 MiB with a Content-Length',
  'huge-chunked': 'streams 10 MiB without a Content-Length',
  oct: 'publishes a symmetric (oct) key',
  error: 'answers HTTP 500',
  'not-jwks': 'returns JSON without a keys array',
};

export const jwksCases: AdversarialCase[] = [
  ...BROKEN_ISSUERS.map(
    (name): AdversarialCase => ({
      name: `JWKS endpoint that ${WHY[name]}`,
      request: tokenOf(name),
      expect: deny(503, 'jwks_unavailable'),
      withinMs: BOUNDED_MS,
      ...(name === 'redirect' && {
        verify: (c: Ctx) => {
          if (c.server.hits('/canary/redirect-target') !== 0) throw new Error('keycard followed the JWKS redirect');
        },
      }),
    }),
  ),
  {
    name: 'the redirect target holds the attacker key: an attacker token is still refused',
    request: tokenOf('redirect', (c) => c.keys.attacker),
    expect: deny(503, 'jwks_unavailable'),
    withinMs: BOUNDED_MS,
  },
  {
    name: 'a JWKS key declaring alg "none" is never used',
    request: tokenOf('none-alg', (c) => c.keys.noneAlg),
    expect: deny(401, 'unknown_key'),
    withinMs: BOUNDED_MS,
  },
  {
    name: 'alg none against the issuer that publishes an alg "none" key',
    request: (c) => checkRequest({ path: '/orders/42', headers: { authorization: c.bearer({ key: c.keys.noneAlg, header: { alg: 'none' }, claims: { iss: iss('none-alg') }, signer: { kind: 'raw', signature: '' } }) } }),
    expect: deny(401, 'disallowed_algorithm'),
  },
  { name: 'an empty JWKS', request: tokenOf('empty'), expect: deny(401, 'unknown_key'), withinMs: BOUNDED_MS },
  {
    name: 'a JWKS whose only key has an unknown kty, named by kid',
    request: (c) => checkRequest({ path: '/orders/42', headers: { authorization: c.bearer({ header: { kid: 'odd' }, claims: { iss: iss('odd-kty') } }) } }),
    expect: deny(401, 'unknown_key'),
    withinMs: BOUNDED_MS,
  },
  { name: 'an unknown kid at the HTTP issuer (one refresh, then unknown_key)', request: tokenOf('http', (c) => c.keys.fileRs), expect: deny(401, 'unknown_key'), withinMs: BOUNDED_MS },
  { name: 'the HTTP issuer keeps serving valid tokens', request: (c) => checkRequest({ path: '/orders/42', headers: { authorization: c.bearer({ key: c.keys.http, claims: { iss: iss('http') } }) } }), expect: allow('alice') },
];
