// Settings `authzen:`: defaults, unknown keys, and caller authentication names checked at load.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_AUTHENTICATION } from '../../src/authn/credentials/types.js';
import { loadSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => workspace?.remove());

function load(authzen: string) {
  workspace = new Workspace().writeAll({
    'keycard.yaml': `
issuers:
  - { name: corp, issuer: https://idp.example/, audiences: [pdp], jwksFile: jwks.json }
policies: { dir: policies }
${authzen}
`,
  });
  return loadSettings(workspace.path('keycard.yaml'));
}

describe('authzen settings', () => {
  it('is off unless configured', () => {
    expect(load('').authzen).toBeUndefined();
  });

  it('takes defaults', () => {
    expect(load('authzen: { listen: 127.0.0.1:8181 }').authzen).toEqual({
      listen: { host: '127.0.0.1', port: 8181 },
      maxBatch: 100,
      maxBodyBytes: 1048576,
      search: { enabled: true, defaultPageSize: 50, maxPageSize: 1000, maxChecksPerPage: 1000 },
      callerAuthentication: DEFAULT_AUTHENTICATION,
    });
  });

  it('compiles the caller authentication once, at load', () => {
    const authzen = load('authzen: { listen: 127.0.0.1:8181, authentication: { credentials: [{ jwt: { header: x-pep-token, issuers: [corp] } }] } }').authzen;
    expect(authzen?.callerAuthentication.credentials).toEqual([{ kind: 'jwt', header: 'x-pep-token', issuers: ['corp'], types: undefined }]);
  });

  it.each([
    ['authzen: { listen: 127.0.0.1:8181, maxbatch: 5 }', /unknown key "maxbatch"/],
    ['authzen: { listen: nowhere }', /is not HOST:PORT/],
    ['authzen: { listen: 127.0.0.1:8181, baseUrl: "https://pdp.example/?x=1" }', /no query or fragment/],
    ['authzen: { listen: 127.0.0.1:8181, search: { defaultPageSize: 10, maxPageSize: 5 } }', /defaultPageSize must not exceed maxPageSize/],
    ['authzen: { listen: 127.0.0.1:8181, authentication: { credentials: [{ jwt: { issuers: [other] } }] } }', /authzen\.authentication\.credentials\[0\]\.jwt\.issuers\[0\].*issuer "other" is not configured/],
    ['authzen: { listen: 127.0.0.1:8181, authentication: { credentials: [{ apiKey: { header: x-api-key } }] } }', /API keys need `apiKeys:`/],
  ])('%s is an error', (yaml, message) => {
    let error: unknown;
    try {
      load(yaml);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => `${issue.key} ${issue.message}`).join('\n')).toMatch(message);
  });
});
