// A policy's `authentication:` section: the credentials a service accepts, their order, and the
// load errors for names the settings file does not configure.
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUTHENTICATION } from '../../src/authn/credentials/types.js';
import { formatConfigIssue } from '../../src/errors.js';
import { configError } from '../helpers/config-error.js';
import { compileYaml } from '../helpers/policy.js';

const CREDENTIALS = { introspectionEndpoints: new Set(['legacy-idp']), apiKeys: true };

function compile(authentication: string, credentials = CREDENTIALS) {
  return compileYaml(`service: s\nauthentication:\n${authentication}\nrules: []\n`, ['corp-idp', 'partner-idp'], 'policy.yaml', { credentials });
}

function errors(authentication: string, credentials = CREDENTIALS): string[] {
  return configError(() => compile(authentication, credentials)).issues.map(formatConfigIssue);
}

describe('policy authentication', () => {
  it('accepts bearer JWTs from every configured issuer when the section is left out', () => {
    const policy = compileYaml('service: s\nrules: []\n');
    expect(policy.authentication).toEqual(DEFAULT_AUTHENTICATION);
  });

  it('keeps `issuers:` as the shorthand for one jwt entry', () => {
    expect(compile('  issuers: [corp-idp]').authentication).toEqual({
      credentials: [{ kind: 'jwt', header: 'authorization', issuers: ['corp-idp'], types: undefined }],
      onMultiple: 'reject',
    });
  });

  it('compiles every credential kind in the order written, with defaults', () => {
    const policy = compile(
      [
        '  onMultiple: first',
        '  credentials:',
        '    - mtls',
        '    - jwt: { issuers: [partner-idp], types: [at+jwt, application/JWT], header: X-Token }',
        '    - envoyJwt: {}',
        '    - introspection: { endpoints: [legacy-idp] }',
        '    - apiKey: { header: X-Api-Key, query: api_key }',
        '    - session: {}',
      ].join('\n'),
    );
    expect(policy.authentication).toEqual({
      onMultiple: 'first',
      credentials: [
        { kind: 'mtls', forwardedClientCert: false },
        { kind: 'jwt', header: 'x-token', issuers: ['partner-idp'], types: ['at+jwt', 'jwt'] },
        { kind: 'envoy_jwt', metadataKey: 'jwt_payload', header: 'authorization', issuers: undefined },
        { kind: 'introspection', header: 'authorization', endpoints: ['legacy-idp'] },
        { kind: 'api_key', header: 'x-api-key', query: 'api_key' },
        { kind: 'session', cookie: 'keycard_session' },
      ],
    });
    expect(policy.issuers).toEqual(['partner-idp']);
  });

  it('names the file, line and key of a credential the settings file does not configure', () => {
    const credentials = { introspectionEndpoints: new Set<string>(), apiKeys: false };
    expect(errors('  credentials:\n    - apiKey: { header: x-api-key }\n    - introspection: { endpoints: [nowhere] }\n    - jwt: { issuers: [other-idp] }', credentials)).toEqual([
      'policy.yaml:4:15 [credential_not_configured] authentication.credentials[0].apiKey: API keys need `apiKeys:` (the hashing pepper) in the settings file',
      'policy.yaml:5:36 [credential_not_configured] authentication.credentials[1].introspection.endpoints[0]: introspection endpoint "nowhere" is not configured in the settings file',
      'policy.yaml:6:24 [unknown_issuer] authentication.credentials[2].jwt.issuers[0]: issuer "other-idp" is not configured in the settings file',
    ]);
  });

  it('refuses entries that are not one known credential, and options that do not belong', () => {
    expect(errors('  credentials:\n    - password: {}')).toEqual([expect.stringContaining('[invalid_value] authentication.credentials[0]')]);
    expect(errors('  credentials:\n    - { jwt: {}, apiKey: { header: x } }')).toEqual([expect.stringContaining('exactly one key')]);
    expect(errors('  credentials:\n    - apiKey: {}')).toEqual([expect.stringContaining('name a header or a query parameter')]);
    expect(errors('  credentials:\n    - session: { cookie: "bad name" }')).toEqual([expect.stringContaining('authentication.credentials[0].session.cookie')]);
    expect(errors('  credentials:\n    - jwt: { issuer: corp-idp }')).toEqual([expect.stringContaining('[unknown_key] authentication.credentials[0].jwt')]);
  });

  it('refuses issuers beside credentials: one place says which issuers count', () => {
    expect(errors('  issuers: [corp-idp]\n  credentials: [jwt]')).toEqual([expect.stringContaining('set issuers in the jwt entry of credentials')]);
  });
});
