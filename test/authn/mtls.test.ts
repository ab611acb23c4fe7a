// mTLS workload identities: source.principal as the subject; x-forwarded-client-cert believed
// only from a trusted proxy and only when the service asks for it; malformed identities refused.
import { describe, expect, it } from 'vitest';
import { forwardedPrincipal, MtlsProvider } from '../../src/authn/credentials/mtls.js';
import { principalProblem, spiffeIdProblem } from '../../src/authn/credentials/peer-principal.js';
import { credentialRequest } from '../../src/authn/credentials/request-source.js';
import type { AuthenticationConfig, CredentialSpecOf } from '../../src/authn/credentials/types.js';
import { parseXfcc } from '../../src/authn/credentials/xfcc.js';
import { IdentityPhase, PEER_CARRIER } from '../../src/authn/identity-phase.js';
import { DenyError } from '../../src/errors.js';
import { trustedProxyList } from '../../src/pipeline/client-address.js';
import { makeKey, signToken } from '../helpers/keys.js';
import { authzInput, testAuthenticator } from '../helpers/pipeline.js';
import { Workspace } from '../helpers/workspace.js';

const NOW_MS = Date.UTC(2026, 2, 27, 12, 0, 0);
const CHECKOUT = 'spiffe://cluster.local/ns/shop/sa/checkout';
const GATEWAY = 'spiffe://cluster.local/ns/gateway/sa/edge';

const provider = new MtlsProvider({ trustedProxies: trustedProxyList(['10.0.0.0/8']), now: () => NOW_MS });
const DIRECT: CredentialSpecOf<'mtls'> = { kind: 'mtls', forwardedClientCert: false };
const FORWARDED: CredentialSpecOf<'mtls'> = { kind: 'mtls', forwardedClientCert: true };

function request(principal: string | undefined, address: string | undefined, headers: Record<string, string> = {}) {
  return credentialRequest(authzInput('s', '/', { headers: new Map(Object.entries(headers)), source: { principal, address } }));
}

async function subject(principal: string | undefined, address: string | undefined, headers: Record<string, string> = {}, spec = DIRECT): Promise<string> {
  const found = provider.find(request(principal, address, headers), spec);
  if (!found) return 'no credential';
  try {
    return (await found.verify()).subject;
  } catch (error) {
    if (error instanceof DenyError) return error.reason;
    throw error;
  }
}

describe('mtls: source.principal', () => {
  it('is the subject, with issuer and credential mtls, on the peer carrier', async () => {
    const found = provider.find(request(CHECKOUT, '10.1.2.3'), DIRECT);
    expect(found).toMatchObject({ kind: 'mtls', carrier: PEER_CARRIER, claim: 'certain' });
    expect(await found!.verify()).toEqual({
      authenticated: true,
      subject: CHECKOUT,
      issuer: 'mtls',
      credential: 'mtls',
      claims: { sub: CHECKOUT },
      expiresAt: NOW_MS / 1000 + 60,
    });
  });

  it('accepts a certificate subject (no URI SAN) as the principal', async () => {
    expect(await subject('CN=billing,OU=payments,O=Example', '192.0.2.1')).toBe('CN=billing,OU=payments,O=Example');
  });

  it('is no credential on a connection without a client certificate', async () => {
    expect(await subject(undefined, '192.0.2.1')).toBe('no credential');
  });

  it.each([
    ['a control character', 'spiffe://cluster.local/ns/shop\n/sa/x'],
    ['over 2048 characters', `spiffe://cluster.local/${'a'.repeat(2040)}`],
    ['a SPIFFE ID without a path', 'spiffe://cluster.local'],
    ['a SPIFFE ID with a ".." segment', 'spiffe://cluster.local/ns/shop/../admin'],
    ['a SPIFFE ID with a query', 'spiffe://cluster.local/ns/shop?x=1'],
    ['a SPIFFE ID with a fragment', 'spiffe://cluster.local/ns/shop#x'],
    ['a SPIFFE ID with a port', 'spiffe://cluster.local:8443/ns/shop'],
    ['an upper-case trust domain', 'spiffe://Cluster.local/ns/shop'],
    ['an upper-case scheme', 'SPIFFE://cluster.local/ns/shop'],
    ['an empty path segment', 'spiffe://cluster.local/ns//shop'],
  ])('refuses a principal with %s: invalid_peer_identity', async (_name, principal) => {
    expect(await subject(principal, '192.0.2.1')).toBe('invalid_peer_identity');
  });

  it('ignores x-forwarded-client-cert unless the service asks for it', async () => {
    expect(await subject(GATEWAY, '10.0.0.5', { 'x-forwarded-client-cert': `URI=${CHECKOUT}` })).toBe(GATEWAY);
  });
});

describe('mtls: x-forwarded-client-cert from a trusted proxy', () => {
  const xfcc = (value: string) => ({ 'x-forwarded-client-cert': value });

  it('believes the URI of the element the nearest proxy appended, instead of the proxy\'s own principal', async () => {
    const header = `By=${GATEWAY};Hash=abc;URI=spiffe://cluster.local/ns/other/sa/first,By=${GATEWAY};Hash=def;Subject="CN=checkout,O=Shop";URI=${CHECKOUT}`;
    expect(await subject(GATEWAY, '10.0.0.5', xfcc(header), FORWARDED)).toBe(CHECKOUT);
  });

  it('falls back to the Subject when the certificate has no URI SAN', async () => {
    expect(await subject(GATEWAY, '10.0.0.5', xfcc('Hash=abc;Subject="CN=legacy-client,OU=ops,O=Example"'), FORWARDED)).toBe('CN=legacy-client,OU=ops,O=Example');
  });

  it('from a trusted proxy without the header: no credential (the proxy\'s own identity is not the caller\'s)', async () => {
    expect(await subject(GATEWAY, '10.0.0.5', {}, FORWARDED)).toBe('no credential');
  });

  it('is ignored from a peer outside network.trustedProxies, whose own principal counts', async () => {
    expect(await subject(GATEWAY, '192.0.2.1', xfcc(`URI=${CHECKOUT}`), FORWARDED)).toBe(GATEWAY);
    expect(await subject(undefined, '192.0.2.1', xfcc(`URI=${CHECKOUT}`), FORWARDED)).toBe('no credential');
    expect(await subject(undefined, undefined, xfcc(`URI=${CHECKOUT}`), FORWARDED)).toBe('no credential');
  });

  it('is ignored when no proxies are trusted at all', async () => {
    const untrusting = new MtlsProvider({ trustedProxies: undefined });
    const found = untrusting.find(request(GATEWAY, '10.0.0.5', xfcc(`URI=${CHECKOUT}`)), FORWARDED);
    expect((await found!.verify()).subject).toBe(GATEWAY);
  });

  it.each([
    ['unparsable', 'URI="spiffe://cluster.local/ns/shop'],
    ['an element without URI or Subject', 'By=spiffe://cluster.local/ns/gw/sa/x;Hash=abc'],
    ['two URI SANs', `URI=${CHECKOUT};URI=spiffe://cluster.local/ns/shop/sa/other`],
    ['a malformed SPIFFE ID', 'URI=spiffe://cluster.local/ns/../admin'],
    ['an empty URI', 'URI=;Subject="CN=x"'],
  ])('refuses a forwarded identity that is %s', async (_name, header) => {
    expect(await subject(GATEWAY, '10.0.0.5', xfcc(header), FORWARDED)).toBe('invalid_peer_identity');
  });
});

describe('mtls beside a bearer token', () => {
  it('is never ambiguous with a request credential: order of precedence decides', async () => {
    const workspace = new Workspace();
    try {
      const key = await makeKey('ES256');
      const phase = new IdentityPhase({ jwt: await testAuthenticator(workspace, key), mtls: provider });
      const jwt = { kind: 'jwt', header: 'authorization', issuers: undefined, types: undefined } as const;
      const userFirst: AuthenticationConfig = { credentials: [jwt, DIRECT], onMultiple: 'reject' };
      const token = await signToken(key, { sub: 'alice' });
      const both = request(CHECKOUT, '10.1.2.3', { authorization: `Bearer ${token}` });
      expect(await phase.authenticate(both, userFirst)).toMatchObject({ subject: 'alice', credential: 'jwt' });
      expect(await phase.authenticate(request(CHECKOUT, '10.1.2.3'), userFirst)).toMatchObject({ subject: CHECKOUT, credential: 'mtls' });
    } finally {
      workspace.remove();
    }
  });
});

describe('x-forwarded-client-cert syntax', () => {
  it('reads elements and pairs, quoted values with escapes, repeated keys', () => {
    const elements = parseXfcc('By=http://frontend.lyft.com;Hash=468ed33b;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=a.example;DNS=b.example,By=x;URI="a\\"b\\\\c,d;e=f"');
    expect(elements.map((element) => Object.fromEntries(element))).toEqual([
      {
        By: ['http://frontend.lyft.com'],
        Hash: ['468ed33b'],
        Subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
        URI: ['http://testclient.lyft.com'],
        DNS: ['a.example', 'b.example'],
      },
      { By: ['x'], URI: ['a"b\\c,d;e=f'] },
    ]);
  });

  it('keeps "=" inside an unquoted value (URL-encoded certificates end in "=" padding)', () => {
    expect(Object.fromEntries(parseXfcc('Cert="-----BEGIN%20CERTIFICATE-----%0AMII%3D%3D";URI=spiffe://td/x')[0]!)).toEqual({
      Cert: ['-----BEGIN%20CERTIFICATE-----%0AMII%3D%3D'],
      URI: ['spiffe://td/x'],
    });
    expect(parseXfcc('Hash=abc==;URI=u')[0]!.get('Hash')).toEqual(['abc==']);
  });

  it.each(['', 'URI', 'URI="unterminated', 'URI="x"y', 'URI=a"b', 'URI=x;', 'URI=x,', '=x', 'U R I=x', 'URI="x\\'])('refuses %j', (header) => {
    expect(() => parseXfcc(header)).toThrow();
  });

  it('refuses more than 64 elements', () => {
    expect(() => parseXfcc(Array.from({ length: 65 }, () => 'URI=x').join(','))).toThrow(/more than 64/);
    expect(parseXfcc(Array.from({ length: 64 }, () => 'URI=x').join(','))).toHaveLength(64);
  });

  it('forwardedPrincipal turns syntax errors into invalid_peer_identity', () => {
    expect(() => forwardedPrincipal('URI="x')).toThrow(expect.objectContaining({ reason: 'invalid_peer_identity' }));
  });
});

describe('principal validation', () => {
  it('accepts well-formed SPIFFE IDs and other principals', () => {
    for (const id of [CHECKOUT, 'spiffe://example.org/a', 'spiffe://td_1-x.y/a.b/c-d/e_f']) expect(spiffeIdProblem(id), id).toBeUndefined();
    expect(principalProblem('CN=x,O=y')).toBeUndefined();
  });

  it('names the problem', () => {
    expect(principalProblem('')).toBe('the principal is empty');
    expect(spiffeIdProblem('spiffe://td/a/./b')).toBe('the SPIFFE ID path has a "." or ".." segment');
    expect(spiffeIdProblem('spiffe://td/')).toBe('the SPIFFE ID has no path below the trust domain');
    expect(spiffeIdProblem('spiffe://user@td/a')).toBe('the SPIFFE trust domain "user@td" may use only a-z, 0-9, ".", "-" and "_"');
  });
});
