// `keycard check` with the mTLS peer identity: `--principal` (or `principal` in a request file)
// is what `principal:` conditions check, in-process as on the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/check.js';
import { jwks, makeKey } from '../helpers/keys.js';
import { SEED, settingsYaml, Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

const LEDGER_POLICY = `
service: ledger
rules:
  - id: from-shop
    effect: allow
    match: { methods: [POST], paths: [/entries] }
    when: [{ principal: "spiffe://cluster.local/ns/shop/*" }]
`;

let workspace: Workspace;
let config: string;
beforeAll(async () => {
  workspace = new Workspace();
  workspace.write('jwks.json', jwks(await makeKey('ES256')));
  workspace.write('seed.yaml', SEED);
  workspace.write('policies/ledger.yaml', LEDGER_POLICY);
  config = workspace.write('keycard.yaml', settingsYaml());
});
afterAll(() => workspace.remove());

const check = (...args: string[]) => capture(() => checkCommand(['--config', config, '--method', 'POST', '--path', '/entries', '--service', 'ledger', '--subject', 'alice', ...args]));

describe('keycard check and the peer principal', () => {
  it('allows a caller coming through a workload the policy names, from --principal', async () => {
    const { code, stdout } = await check('--principal', 'spiffe://cluster.local/ns/shop/sa/checkout');
    expect(code).toBe(0);
    expect(stdout).toContain('decision  allow 200 allowed by rule from-shop');
  });

  it('denies without a peer identity, or with one from another namespace', async () => {
    expect((await check()).code).toBe(1);
    const other = await check('--principal', 'spiffe://cluster.local/ns/billing/sa/worker');
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('decision  deny 403 no_matching_rule');
  });

  it('reads the principal from a request file', async () => {
    const file = workspace.write('request.yaml', 'method: POST\npath: /entries\nservice: ledger\nprincipal: spiffe://cluster.local/ns/shop/sa/cart\n');
    const { code } = await capture(() => checkCommand(['--config', config, '--request', file, '--subject', 'alice']));
    expect(code).toBe(0);
  });
});
