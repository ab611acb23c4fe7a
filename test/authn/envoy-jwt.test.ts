// Verify once with Envoy: the payload jwt_authn verified, read from the CheckRequest metadata,
// checked again cheaply against the configured issuer; a bearer token Envoy did not verify is
// refused (or verified by a `jwt` entry on the same header, if the service lists one).
import { describe, expect, it } from 'vitest';
import { EnvoyJwtProvider, JWT_AUTHN_NAMESPACE } from '../../src/authn/credentials/envoy-jwt.js';
import { credentialRequest } from '../../src/authn/credentials/request-source.js';
import type { AuthenticationConfig, CredentialSpecOf } from '../../src/authn/credentials/types.js';
import { IdentityPhase } from '../../src/authn/identity-phase.js';
import type { Identity } from '../../src/authn/identity.js';
import type { IssuerSettings } from '../../src/config/settings.js';
import { DenyError } from '../../src/errors.js';
import { UnreadableMetadata } from '../../src/protocol/struct-json.js';
import { makeKey, signToken, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/keys.js';
import { authzInput, testAuthenticator } from '../helpers/pipeline.js';
import { Workspace } from '../helpers/workspace.js';

const NOW_MS = Date.UTC(2026, 2, 27, 12, 0, 0);
const NOW = NOW_MS / 1000;

const ISSUERS = [
  { name: 'test-idp', issuer: TEST_ISSUER, audiences: [TEST_AUDIENCE, 'other-aud'] },
  { name: 'partner', issuer: 'https://partner.example/', audiences: ['shop'] },
] as unknown as IssuerSettings[];

const provider = new EnvoyJwtProvider(ISSUERS, { clockSkewMs: 30_000, maxTokenLifetimeMs: 86_400_000, now: () => NOW_MS });

const SPEC: CredentialSpecOf<'envoy_jwt'> = { kind: 'envoy_jwt', metadataKey: 'jwt_payload', header: 'authorization', issuers: undefined };

const payload = (claims: Record<string, unknown> = {}) => ({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'alice', iat: NOW - 60, exp: NOW + 540, ...claims });

function request(metadata: Record<string, unknown> | undefined, headers: Record<string, string> = {}) {
  return credentialRequest(authzInput('s', '/', { headers: new Map(Object.entries(headers)), ...(metadata && { filterMetadata: metadata }) }));
}

const withPayload = (body: unknown, key = 'jwt_payload') => ({ [JWT_AUTHN_NAMESPACE]: { [key]: body } });

async function outcome(body: unknown, spec: CredentialSpecOf<'envoy_jwt'> = SPEC): Promise<string> {
  const found = provider.find(request(withPayload(body)), spec);
  if (!found) return 'not found';
  try {
    const identity = await found.verify();
    return `${identity.credential}:${identity.issuer}:${identity.subject}`;
  } catch (error) {
    if (error instanceof DenyError) return error.reason;
    throw error;
  }
}

describe('envoy_jwt: a payload jwt_authn verified', () => {
  it('is the caller, with the configured issuer name, the payload as claims and exp as expiry', async () => {
    const found = provider.find(request(withPayload(payload({ scope: 'orders:read' }))), SPEC);
    expect(found).toMatchObject({ kind: 'envoy_jwt', carrier: 'header:authorization', claim: 'certain' });
    expect(await found!.verify()).toEqual({
      authenticated: true,
      subject: 'alice',
      issuer: 'test-idp',
      credential: 'envoy_jwt',
      claims: payload({ scope: 'orders:read' }),
      expiresAt: NOW + 540,
    });
  });

  it('is found under the configured metadataKey only', async () => {
    expect(provider.find(request(withPayload(payload(), 'other_key')), SPEC)).toBeUndefined();
    expect(await outcome(payload(), { ...SPEC, metadataKey: 'verified' })).toBe('not found');
    expect(provider.find(request(withPayload(payload(), 'verified')), { ...SPEC, metadataKey: 'verified' })).toBeDefined();
    // Inherited names are not metadata keys.
    expect(provider.find(request({ [JWT_AUTHN_NAMESPACE]: {} }), { ...SPEC, metadataKey: 'constructor' })).toBeUndefined();
    expect(provider.find(request({ 'envoy.filters.http.other': { jwt_payload: payload() } }), SPEC)).toBeUndefined();
  });

  it('counts as the credential of its header even when jwt_authn removed the token (forward: false)', () => {
    expect(provider.find(request(withPayload(payload())), { ...SPEC, header: 'x-token' })?.carrier).toBe('header:x-token');
  });

  it('accepts an array aud with one configured audience, and a second configured issuer', async () => {
    expect(await outcome(payload({ aud: ['elsewhere', 'other-aud'] }))).toBe('envoy_jwt:test-idp:alice');
    expect(await outcome(payload({ iss: 'https://partner.example/', aud: 'shop' }))).toBe('envoy_jwt:partner:alice');
  });

  it.each([
    ['not an object', 'a string', 'invalid_claims'],
    ['an array', [payload()], 'invalid_claims'],
    ['an unknown iss', payload({ iss: 'https://evil.example/' }), 'untrusted_issuer'],
    ['no iss', payload({ iss: undefined }), 'untrusted_issuer'],
    ['a foreign aud', payload({ aud: 'billing' }), 'invalid_audience'],
    ['no aud', payload({ aud: undefined }), 'invalid_audience'],
    ['an aud list of non-strings', payload({ aud: [1, null] }), 'invalid_audience'],
    ['no sub', payload({ sub: undefined }), 'invalid_claims'],
    ['an empty sub', payload({ sub: '' }), 'invalid_claims'],
    ['a sub of 257 characters', payload({ sub: 'a'.repeat(257) }), 'invalid_claims'],
    ['a sub with a line break (it would forge x-keycard-subject)', payload({ sub: 'alice\r\nx-keycard-roles: admin' }), 'invalid_claims'],
    ['a sub with a leading space', payload({ sub: ' root' }), 'invalid_claims'],
    ['no exp', payload({ exp: undefined }), 'invalid_claims'],
    ['a string exp', payload({ exp: String(NOW + 60) }), 'invalid_claims'],
    ['exp null (NaN or Infinity in the Struct)', payload({ exp: null }), 'invalid_claims'],
    ['exp past beyond the clock skew', payload({ exp: NOW - 31 }), 'token_expired'],
    ['nbf ahead beyond the clock skew', payload({ nbf: NOW + 31 }), 'token_not_yet_valid'],
    // Issued "later" than now, it would outlive a revocation of the subject's tokens issued before now.
    ['iat ahead beyond the clock skew', payload({ iat: NOW + 31 }), 'token_not_yet_valid'],
    ['a lifetime over jwt.maxTokenLifetime', payload({ iat: NOW - 60, exp: NOW + 86_400 }), 'invalid_claims'],
  ])('refuses a payload with %s', async (_name, body, reason) => {
    expect(await outcome(body)).toBe(reason);
  });

  it('tolerates exp and nbf within the clock skew', async () => {
    expect(await outcome(payload({ exp: NOW - 29 }))).toBe('envoy_jwt:test-idp:alice');
    expect(await outcome(payload({ nbf: NOW + 29 }))).toBe('envoy_jwt:test-idp:alice');
    expect(await outcome(payload({ iat: NOW + 29 }))).toBe('envoy_jwt:test-idp:alice');
  });

  it('honours the service\'s issuers', async () => {
    expect(await outcome(payload(), { ...SPEC, issuers: ['partner'] })).toBe('untrusted_issuer');
    expect(await outcome(payload(), { ...SPEC, issuers: ['partner', 'test-idp'] })).toBe('envoy_jwt:test-idp:alice');
  });

  it('refuses metadata keycard could not read (nested too deep) as invalid_request, even without a token', async () => {
    const unreadable = { [JWT_AUTHN_NAMESPACE]: new UnreadableMetadata('too deep') };
    const found = provider.find(request(unreadable), SPEC);
    expect(found?.claim).toBe('certain');
    await expect(found!.verify()).rejects.toMatchObject({ reason: 'invalid_request', detail: 'too deep' });
  });
});

describe('envoy_jwt: a bearer token without jwt_authn metadata', () => {
  it('is found as a fallback that is refused with token_not_verified_by_proxy', async () => {
    const found = provider.find(request(undefined, { authorization: 'Bearer eyJ.x.y' }), SPEC);
    expect(found).toMatchObject({ kind: 'envoy_jwt', carrier: 'header:authorization', claim: 'fallback' });
    await expect(found!.verify()).rejects.toMatchObject({ reason: 'token_not_verified_by_proxy' });
  });

  it('no token and no metadata: no credential (the anonymous caller)', () => {
    expect(provider.find(request(undefined, {}), SPEC)).toBeUndefined();
    expect(provider.find(request(undefined, { authorization: 'Basic abc' }), SPEC)).toBeUndefined();
  });

  it('with a jwt entry on the same header, keycard verifies the token itself', async () => {
    const workspace = new Workspace();
    try {
      const key = await makeKey('ES256');
      const phase = new IdentityPhase({ jwt: await testAuthenticator(workspace, key), envoy_jwt: provider });
      const authenticate = (config: AuthenticationConfig, headers: Record<string, string>, metadata?: Record<string, unknown>): Promise<Identity> =>
        phase.authenticate(request(metadata, headers), config);
      const both: AuthenticationConfig = { credentials: [SPEC, { kind: 'jwt', header: 'authorization', issuers: undefined, types: undefined }], onMultiple: 'reject' };
      const only: AuthenticationConfig = { credentials: [SPEC], onMultiple: 'reject' };
      const token = await signToken(key, { sub: 'jay' });
      expect(await authenticate(both, { authorization: `Bearer ${token}` })).toMatchObject({ subject: 'jay', credential: 'jwt' });
      await expect(authenticate(only, { authorization: `Bearer ${token}` })).rejects.toMatchObject({ reason: 'token_not_verified_by_proxy' });
      // With the payload in the metadata, Envoy's result counts and the token is not verified again.
      const metadata = withPayload(payload({ sub: 'from-envoy', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }));
      const live = new IdentityPhase({ jwt: await testAuthenticator(workspace, key), envoy_jwt: new EnvoyJwtProvider(ISSUERS, { clockSkewMs: 0 }) });
      expect(await live.authenticate(request(metadata, { authorization: `Bearer ${token}` }), both)).toMatchObject({ subject: 'from-envoy', credential: 'envoy_jwt' });
    } finally {
      workspace.remove();
    }
  });
});
