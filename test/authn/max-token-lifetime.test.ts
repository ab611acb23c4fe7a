// jwt.maxTokenLifetime from the settings file reaches the authenticator keycard builds: a token
// that lives longer is denied invalid_claims (decided in-process by `keycard check --token`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/check.js';
import { loadSettings } from '../../src/config/settings.js';
import { capture } from '../cli/run-cli.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
let key: TestKey;
let config: string;
beforeAll(async () => {
  key = await makeKey('ES256');
  workspace = new Workspace().writeAll({ 'jwks.json': jwks(key), 'seed.yaml': SEED, 'policies/orders.yaml': ORDERS_POLICY });
  config = workspace.write('keycard.yaml', settingsYaml('jwt: { clockSkew: 0s, maxTokenLifetime: 1h }\n'));
});
afterAll(() => workspace.remove());

const checkToken = (token: string) =>
  capture(() => checkCommand(['--config', config, '--service', 'orders', '--path', '/orders/42', '--token', token, '--format', 'json']));

describe('jwt.maxTokenLifetime', () => {
  it('is read from the settings file (24h by default)', () => {
    expect(loadSettings(config).jwt.maxTokenLifetime).toBe(3_600_000);
    const defaults = workspace.write('defaults.yaml', settingsYaml());
    expect(loadSettings(defaults).jwt.maxTokenLifetime).toBe(86_400_000);
  });

  it('lets a token within the lifetime through and denies a longer-lived one as invalid_claims', async () => {
    const within = await checkToken(await signToken(key, { sub: 'alice', expiresIn: 3600 }));
    expect(within.code).toBe(0);

    const longer = await checkToken(await signToken(key, { sub: 'alice', expiresIn: 7200 }));
    expect(longer.code).toBe(1);
    expect(JSON.parse(longer.stdout)).toMatchObject({
      decision: 'deny',
      status: 401,
      reason: 'invalid_claims',
      // 7200s, or a second less when the clock ticked between signing and checking.
      detail: expect.stringMatching(/^test-idp: "exp" is 7(200|199)s in the future, beyond jwt\.maxTokenLifetime \(3600s\) plus the clock skew \(0s\)$/),
    });
  });
});
