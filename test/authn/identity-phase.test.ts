// The identity phase's rules: which credential counts when a request carries several, what no
// credential means, and that a rejected credential never becomes the anonymous caller.
import { describe, expect, it } from 'vitest';
import { credentialRequest } from '../../src/authn/credentials/request-source.js';
import type { AuthenticationConfig, CredentialProvider, CredentialProviders, CredentialSpec, PresentedCredential } from '../../src/authn/credentials/types.js';
import { IdentityPhase, PEER_CARRIER } from '../../src/authn/identity-phase.js';
import type { AuthenticatedIdentity, CredentialKind, Identity } from '../../src/authn/identity.js';
import { DenyError } from '../../src/errors.js';
import { authzInput } from '../helpers/pipeline.js';

/**
 * A provider that finds its credential in `header` and verifies it as subject = value. Its claim
 * is `fallback` for values starting with "~" unless it recognizes every shape (`anyShape`).
 */
function headerProvider<K extends CredentialKind>(kind: K, header: string, verified: string[] = [], anyShape = false): CredentialProvider<K> {
  return {
    kind,
    find(request): PresentedCredential | undefined {
      const value = request.header(header);
      if (value === undefined) return undefined;
      return {
        kind,
        carrier: `header:${header}`,
        claim: value.startsWith('~') && !anyShape ? 'fallback' : 'certain',
        verify: async () => {
          verified.push(`${kind}:${value}`);
          if (value === 'bad') throw new DenyError('invalid_signature', 'bad credential');
          return identity(kind, value);
        },
      };
    },
  };
}

function peerProvider(): CredentialProvider<'mtls'> {
  return {
    kind: 'mtls',
    find: (request) =>
      request.peerPrincipal === undefined
        ? undefined
        : { kind: 'mtls', carrier: PEER_CARRIER, claim: 'certain', verify: async () => identity('mtls', request.peerPrincipal!) },
  };
}

function identity(kind: CredentialKind, subject: string): AuthenticatedIdentity {
  return { authenticated: true, subject, issuer: kind, credential: kind, claims: { sub: subject }, expiresAt: 2e9 };
}

const JWT: CredentialSpec = { kind: 'jwt', header: 'authorization', issuers: undefined, types: undefined };
const API_KEY: CredentialSpec = { kind: 'api_key', header: 'x-api-key', query: undefined };
const INTROSPECTION: CredentialSpec = { kind: 'introspection', header: 'authorization', endpoints: ['idp'] };
const MTLS: CredentialSpec = { kind: 'mtls', forwardedClientCert: false };

function authenticate(
  providers: CredentialProviders,
  config: AuthenticationConfig,
  headers: Record<string, string>,
  principal?: string,
): Promise<Identity> {
  const input = authzInput('s', '/', { headers: new Map(Object.entries(headers)), source: { principal } });
  return new IdentityPhase(providers).authenticate(credentialRequest(input), config);
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DenyError) return error.reason;
    throw error;
  }
  return 'no error';
}

const subjectOf = (identity: Identity) => (identity.authenticated ? `${identity.credential}:${identity.subject}` : 'anonymous');

describe('identity phase', () => {
  const providers: CredentialProviders = {
    jwt: headerProvider('jwt', 'authorization'),
    api_key: headerProvider('api_key', 'x-api-key'),
    introspection: headerProvider('introspection', 'authorization', [], true),
    mtls: peerProvider(),
  };

  it('is anonymous without any credential', async () => {
    expect(await authenticate(providers, { credentials: [JWT, API_KEY], onMultiple: 'reject' }, {})).toEqual({ authenticated: false });
  });

  it('uses the one credential present, whichever its place in the list', async () => {
    const config: AuthenticationConfig = { credentials: [JWT, API_KEY], onMultiple: 'reject' };
    expect(subjectOf(await authenticate(providers, config, { 'x-api-key': 'k1' }))).toBe('api_key:k1');
    expect(subjectOf(await authenticate(providers, config, { authorization: 'alice' }))).toBe('jwt:alice');
  });

  it('rejects two credentials as ambiguous by default, without verifying either', async () => {
    const verified: string[] = [];
    const spying: CredentialProviders = { jwt: headerProvider('jwt', 'authorization', verified), api_key: headerProvider('api_key', 'x-api-key', verified) };
    const config: AuthenticationConfig = { credentials: [JWT, API_KEY], onMultiple: 'reject' };
    expect(await reason(authenticate(spying, config, { authorization: 'alice', 'x-api-key': 'k1' }))).toBe('ambiguous_credentials');
    expect(verified).toEqual([]);
  });

  it('with onMultiple: first, uses the credential listed first, not the one found first', async () => {
    const headers = { authorization: 'alice', 'x-api-key': 'k1' };
    expect(subjectOf(await authenticate(providers, { credentials: [API_KEY, JWT], onMultiple: 'first' }, headers))).toBe('api_key:k1');
    expect(subjectOf(await authenticate(providers, { credentials: [JWT, API_KEY], onMultiple: 'first' }, headers))).toBe('jwt:alice');
  });

  it('never lets the credential listed first fail over to another: a rejected credential denies', async () => {
    const config: AuthenticationConfig = { credentials: [JWT, API_KEY], onMultiple: 'first' };
    expect(await reason(authenticate(providers, config, { authorization: 'bad', 'x-api-key': 'k1' }))).toBe('invalid_signature');
    expect(await reason(authenticate(providers, config, { authorization: 'bad' }))).toBe('invalid_signature');
  });

  it('counts two methods reading one header as one credential; the method that recognizes its shape wins', async () => {
    const config: AuthenticationConfig = { credentials: [JWT, INTROSPECTION], onMultiple: 'reject' };
    // "~opaque": the JWT provider's fallback claim; introspection recognizes it.
    expect(subjectOf(await authenticate(providers, config, { authorization: '~opaque' }))).toBe('introspection:~opaque');
    expect(subjectOf(await authenticate(providers, config, { authorization: 'eyJ.jwt' }))).toBe('jwt:eyJ.jwt');
  });

  it('lets a fallback claim verify (and explain its refusal) when no other method recognizes the credential', async () => {
    const onlyJwt: CredentialProviders = { jwt: headerProvider('jwt', 'authorization') };
    expect(subjectOf(await authenticate(onlyJwt, { credentials: [JWT], onMultiple: 'reject' }, { authorization: '~opaque' }))).toBe('jwt:~opaque');
  });

  it('never counts the mTLS peer identity as a second credential; precedence decides between them', async () => {
    const headers = { authorization: 'alice' };
    const peer = 'spiffe://cluster.local/ns/shop/sa/checkout';
    expect(subjectOf(await authenticate(providers, { credentials: [JWT, MTLS], onMultiple: 'reject' }, headers, peer))).toBe('jwt:alice');
    expect(subjectOf(await authenticate(providers, { credentials: [MTLS, JWT], onMultiple: 'reject' }, headers, peer))).toBe(`mtls:${peer}`);
    expect(subjectOf(await authenticate(providers, { credentials: [JWT, MTLS], onMultiple: 'reject' }, {}, peer))).toBe(`mtls:${peer}`);
  });

  it('denies (never allows anonymously) when a policy names a credential keycard has no provider for', async () => {
    expect(await reason(authenticate({ jwt: providers.jwt! }, { credentials: [API_KEY], onMultiple: 'reject' }, { 'x-api-key': 'k1' }))).toBe('internal_error');
  });
});

describe('credential request', () => {
  const request = (headers: Record<string, string>, path = '/') => credentialRequest(authzInput('s', path, { headers: new Map(Object.entries(headers)) }));

  it('reads cookies from a Cookie header, including several joined by a proxy', () => {
    const cookies = request({ cookie: 'a=1; keycard_session=s3cr3t, theme="dark"' });
    expect(cookies.cookie('keycard_session')).toBe('s3cr3t');
    expect(cookies.cookie('theme')).toBe('dark');
    expect(cookies.cookie('missing')).toBeUndefined();
  });

  it('refuses a cookie or query parameter sent twice: a proxy and keycard could pick different ones', () => {
    expect(() => request({ cookie: 'sid=a; sid=b' }).cookie('sid')).toThrow(DenyError);
    expect(() => request({}, '/x?api_key=a&api_key=b').query('api_key')).toThrow(/2 values of query parameter api_key/);
  });

  it('reads query parameters of the request target, decoded, ignoring a fragment', () => {
    expect(request({}, '/orders?api_key=kc%5Fabc&x=1#api_key=evil').query('api_key')).toBe('kc_abc');
    expect(request({}, '/orders').query('api_key')).toBeUndefined();
  });
});
