import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { parseDuration } from '../../src/config/duration.js';
import { parseListenAddress } from '../../src/config/listen-address.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
afterEach(() => workspace?.remove());

function settingsError(text: string): string {
  workspace = new Workspace();
  const file = workspace.write('keycard.yaml', text);
  return configError(() => loadSettings(file), 'settings loaded without error').message.replace(`${file}`, 'keycard.yaml');
}

describe('settings file', () => {
  it('applies defaults and resolves relative paths against the file', () => {
    workspace = new Workspace();
    const file = workspace.write('conf/keycard.yaml', `
issuers:
  - { name: idp, issuer: "https://idp/", audiences: [a], jwksFile: keys/jwks.json }
policies: { dir: policies }
store: { type: memory, seedFile: ../seed.yaml }
audit: { output: logs/audit.log }
`);
    const settings = loadSettings(file);
    expect(settings.grpc.listen).toEqual({ host: '0.0.0.0', port: 9001 });
    expect(settings.admin.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(settings.policies.dir).toBe(workspace.path('conf/policies'));
    expect(settings.issuers[0]?.jwksFile).toBe(workspace.path('conf/keys/jwks.json'));
    expect(settings.issuers[0]?.algorithms).toEqual(['RS256', 'ES256']);
    expect(settings.store).toEqual({ type: 'memory', seedFile: workspace.path('seed.yaml') });
    expect(settings.audit.output).toBe(workspace.path('conf/logs/audit.log'));
    expect(settings.jwt).toEqual({ clockSkew: 30_000, maxTokenBytes: 8192, cacheSize: 10_000, cacheMaxTtl: 300_000, maxTokenLifetime: 86_400_000 });
  });

  it('lets flags override the listen addresses', () => {
    workspace = new Workspace();
    const file = workspace.write('keycard.yaml', 'policies: { dir: p }\ngrpc: { listen: 1.2.3.4:1 }\n');
    const settings = loadSettings(file, { grpcListen: { host: '127.0.0.1', port: 0 } });
    expect(settings.grpc.listen).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('rejects unknown keys with file, line, column and key', () => {
    expect(settingsError('policies: { dir: p }\ngrpc:\n  lisen: 0.0.0.0:9001\n')).toBe(
      'keycard.yaml:3:3 [unknown_key] grpc.lisen: unknown key "lisen"',
    );
  });

  it('requires the policy directory', () => {
    expect(settingsError('grpc: { listen: 127.0.0.1:1 }\n')).toBe('keycard.yaml:1:1 [missing_key] policies: required key is missing');
  });

  it.each([
    ['HS256 is not an accepted algorithm', 'issuers:\n  - { name: i, issuer: x, audiences: [a], jwksFile: j, algorithms: [HS256] }\npolicies: { dir: p }\n', '[invalid_value] issuers[0].algorithms[0]'],
    ['none is not an accepted algorithm', 'issuers:\n  - { name: i, issuer: x, audiences: [a], jwksFile: j, algorithms: [none] }\npolicies: { dir: p }\n', '[invalid_value] issuers[0].algorithms[0]'],
    ['one key source', 'issuers:\n  - { name: i, issuer: x, audiences: [a] }\npolicies: { dir: p }\n', 'issuers[0].jwksFile: set exactly one of jwksFile and jwksUri'],
    ['https for remote JWKS', 'issuers:\n  - { name: i, issuer: x, audiences: [a], jwksUri: "http://idp.example/jwks" }\npolicies: { dir: p }\n', 'jwksUri must use https'],
    ['a duration', 'jwt: { clockSkew: soon }\npolicies: { dir: p }\n', 'keycard.yaml:1:19 [invalid_value] jwt.clockSkew: "soon" is not a duration'],
    ['a listen address', 'grpc: { listen: "9001" }\npolicies: { dir: p }\n', '[invalid_value] grpc.listen: "9001" is not HOST:PORT'],
    ['unique issuer names', 'issuers:\n  - { name: i, issuer: x, audiences: [a], jwksFile: j }\n  - { name: i, issuer: y, audiences: [a], jwksFile: j }\npolicies: { dir: p }\n', 'keycard.yaml:3:13 [invalid_value] issuers[1].name: duplicate issuer name "i"'],
  ])('requires %s', (_what, text, expected) => {
    expect(settingsError(text)).toContain(expected);
  });

  it('accepts http JWKS URIs on loopback only (tests, local IdPs)', () => {
    workspace = new Workspace();
    const file = workspace.write('k.yaml', 'issuers:\n  - { name: i, issuer: x, audiences: [a], jwksUri: "http://127.0.0.1:8080/jwks" }\npolicies: { dir: p }\n');
    expect(loadSettings(file).issuers[0]?.jwksUri).toBe('http://127.0.0.1:8080/jwks');
  });

  it('names a missing settings file', () => {
    expect(() => loadSettings('/nonexistent/keycard.yaml')).toThrow(/\/nonexistent\/keycard.yaml \[file_unreadable\]/);
  });
});

describe('durations and listen addresses', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', 's', '-1s', '1 week'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it('parses HOST:PORT including IPv6', () => {
    expect(parseListenAddress('0.0.0.0:9001')).toEqual({ host: '0.0.0.0', port: 9001 });
    expect(parseListenAddress('[::]:0')).toEqual({ host: '::', port: 0 });
    expect(parseListenAddress('localhost:70000')).toBeUndefined();
    expect(parseListenAddress(':9001')).toBeUndefined();
  });
});
