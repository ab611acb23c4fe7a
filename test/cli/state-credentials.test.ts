// `keycard apikeys` and `keycard sessions` in-process against a private redis-server: a new key or
// cookie value is printed once and is nowhere else (store, audit log, listings); revoke deletes it;
// writes to a memory store are refused; bad input is a precise exit 2 or usage error.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKeySecret, parseApiKey } from '../../src/authn/credentials/api-key-format.js';
import { sessionIdOf } from '../../src/authn/credentials/session-format.js';
import { MEMORY_STORE_REFUSAL } from '../../src/cli/state/context.js';
import { apikeysCommand, sessionsCommand } from '../../src/cli/state/credential-commands.js';
import { UsageError } from '../../src/cli/usage.js';
import { RedisStore } from '../../src/state/redis/redis-store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { redisSettings, uniquePrefix } from '../helpers/redis-store.js';
import { settingsYaml, Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

const PEPPER = 'cli-test-pepper-0123456789';

let redis: RedisServer;
let workspace: Workspace;
let config: string;
let memoryConfig: string;
let noApiKeysConfig: string;
let store: RedisStore;

beforeAll(async () => {
  redis = await RedisServer.start();
  workspace = new Workspace().writeAll({ 'jwks.json': { keys: [] }, 'policies/.keep': '', 'seed.yaml': 'roleBindings: []\n', 'pepper.txt': `${PEPPER}\n` });
  const keyPrefix = uniquePrefix();
  const onRedis = (extra: string) => settingsYaml(extra).replace('store: { type: memory, seedFile: seed.yaml }', `store: { type: redis, url: "${redis.url()}", keyPrefix: "${keyPrefix}" }`);
  config = workspace.write('keycard.yaml', onRedis('apiKeys: { pepperFile: pepper.txt }\nsessions: { idleTimeout: 10m, absoluteTimeout: 2h }\n'));
  memoryConfig = workspace.write('memory.yaml', settingsYaml('apiKeys: { pepperFile: pepper.txt }\n'));
  noApiKeysConfig = workspace.write('no-api-keys.yaml', onRedis(''));
  store = new RedisStore({ settings: redisSettings({ url: redis.url(), keyPrefix }) });
}, 30_000);

afterAll(async () => {
  await store?.close();
  await redis?.remove();
  workspace?.remove();
});

const apikeys = (...args: string[]) => capture(() => apikeysCommand([...args, '--config', config, '--actor', 'ops']));
const sessions = (...args: string[]) => capture(() => sessionsCommand([...args, '--config', config, '--actor', 'ops']));
const auditText = () => readFileSync(workspace.path('audit.log'), 'utf8');
const auditLines = () => auditText().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.type === 'state_change');

describe('keycard apikeys', () => {
  it('create prints the key once; the store keeps only its HMAC under the pepper, the audit log only its id', async () => {
    const result = await apikeys('create', '--subject', 'svc:ci', '--scope', 'orders:read', '--scope', 'orders:write', '--expires', '90d', '--name', 'ci deploy');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const [summary, keyLine, note] = result.stdout.split('\n');
    const key = keyLine!.replace(/^key: /, '');
    const parsed = parseApiKey(key);
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(summary).toMatch(new RegExp(`^created API key ${parsed.id} for svc:ci \\(scopes orders:read orders:write; expires \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\)$`));
    expect(note).toBe('The key is shown only this once: keycard keeps only a hash of it.');

    const record = await store.apiKey(parsed.id);
    expect(record).toMatchObject({ id: parsed.id, subject: 'svc:ci', scopes: ['orders:read', 'orders:write'], name: 'ci deploy', hash: hashApiKeySecret(Buffer.from(PEPPER), parsed.secret) });
    expect(record!.expiresAt! - record!.createdAt).toBe(90 * 86_400);

    const line = auditLines().at(-1)!;
    expect(line).toMatchObject({ actor: 'ops', action: 'apikeys.create', store: 'redis', target: { id: parsed.id, subject: 'svc:ci', scopes: 'orders:read orders:write', name: 'ci deploy' } });
    expect(auditText()).not.toContain(parsed.secret);
    expect(auditText()).not.toContain(record!.hash);

    const listed = await apikeys('list', '--format', 'json');
    expect(listed.stdout).not.toContain(record!.hash);
    expect(listed.stdout).not.toContain(parsed.secret);
    expect(JSON.parse(listed.stdout).apiKeys).toContainEqual(expect.objectContaining({ id: parsed.id, subject: 'svc:ci', scopes: ['orders:read', 'orders:write'], expired: false }));
  });

  it('create --format json gives the id and the key for scripts; a key without --expires never expires', async () => {
    const result = await apikeys('create', '--subject', 'svc:batch', '--format', 'json');
    const json = JSON.parse(result.stdout) as { id: string; key: string; changed: boolean; target: Record<string, string> };
    expect(json).toMatchObject({ changed: true, target: { subject: 'svc:batch', scopes: '' } });
    expect(json.key).toMatch(new RegExp(`^kc_${json.id}_[A-Za-z0-9_-]{43}$`));
    expect(json.target).not.toHaveProperty('expires_at');
    expect(await store.apiKey(json.id)).not.toHaveProperty('expiresAt');
    const text = await apikeys('list', '--subject', 'svc:batch');
    expect(text.stdout).toMatch(new RegExp(`^${json.id}  svc:batch  -  \\(no scopes\\)  created \\S+Z  never expires$`));
  });

  it('revoke ID deletes the key; a second revoke has nothing to do', async () => {
    const created = JSON.parse((await apikeys('create', '--subject', 'svc:gone', '--format', 'json')).stdout) as { id: string };
    expect(await apikeys('revoke', created.id)).toEqual({ code: 0, stdout: `revoked API key ${created.id} of svc:gone`, stderr: '' });
    expect(await store.apiKey(created.id)).toBeUndefined();
    expect(auditLines().at(-1)).toMatchObject({ action: 'apikeys.revoke', target: { id: created.id, subject: 'svc:gone' } });
    const again = await apikeys('revoke', created.id, '--format', 'json');
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'apikeys.revoke', changed: false });
    expect((await apikeys('list', '--subject', 'svc:gone')).stdout).toBe('no API keys');
  });

  it('refuses a pasted key instead of its id, without repeating it', async () => {
    const created = JSON.parse((await apikeys('create', '--subject', 'svc:paste', '--format', 'json')).stdout) as { id: string; key: string };
    const auditBefore = auditText();
    const result = await apikeys('revoke', created.key);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'keycard apikeys revoke: that is an API key, not its id: give the 12 characters after "kc_" (keycard apikeys list shows them)' });
    expect(await store.apiKey(created.id)).toBeDefined();
    expect(auditText()).toBe(auditBefore);
    expect((await apikeys('revoke', 'short')).stderr).toBe('keycard apikeys revoke: API key id "short" is not 12 letters and digits');
  });

  it('refuses bad input precisely', async () => {
    await expect(apikeysCommand(['create', '--config', config])).rejects.toThrow(new UsageError('apikeys create needs --subject S (who the key acts as)'));
    await expect(apikeysCommand(['create', '--subject', 's', '--expires', 'soon', '--config', config])).rejects.toThrow('--expires: "soon" is not a duration (e.g. 90d, 12h, 30m)');
    await expect(apikeysCommand(['list', '--scope', 'x', '--config', config])).rejects.toThrow('apikeys: --scope, --expires and --name are for apikeys create');
    await expect(apikeysCommand(['rotate', '--config', config])).rejects.toThrow('apikeys: unknown subcommand "rotate"; create, revoke or list');
    expect((await apikeys('create', '--subject', 's', '--scope', 'two words')).stderr).toBe('keycard apikeys create: --scope "two words" may use letters, digits, ".", ":", "/", "_" and "-"');
    expect((await apikeys('create', '--subject', 's', '--expires', '0s')).stderr).toBe('keycard apikeys create: --expires must be at least 1s');
  });

  it('needs apiKeys: in the settings, and refuses writes to a memory store', async () => {
    const missing = await capture(() => apikeysCommand(['create', '--subject', 's', '--config', noApiKeysConfig]));
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'keycard apikeys create: API keys need `apiKeys:` (pepperFile or pepperEnv) in the settings file' });
    const memory = await capture(() => apikeysCommand(['create', '--subject', 's', '--config', memoryConfig]));
    expect(memory).toEqual({ code: 2, stdout: '', stderr: `keycard apikeys create: ${MEMORY_STORE_REFUSAL}` });
    expect(await capture(() => apikeysCommand(['list', '--config', memoryConfig]))).toEqual({ code: 0, stdout: 'no API keys', stderr: '' });
  });

  it('reports a pepper that cannot be read (exit 2), and writes nothing', async () => {
    const broken = workspace.write('broken-pepper.yaml', readFileSync(config, 'utf8').replace('pepperFile: pepper.txt', 'pepperFile: no-such-pepper.txt'));
    const before = (await store.listApiKeys()).length;
    const result = await capture(() => apikeysCommand(['create', '--subject', 's', '--config', broken]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[file_unreadable] apiKeys.pepperFile: the API key pepper cannot be read from');
    expect(await store.listApiKeys()).toHaveLength(before);
  });
});

describe('keycard sessions', () => {
  it('create prints the cookie value once; the store and the audit log know only its SHA-256', async () => {
    const result = await sessions('create', '--subject', 'alice', '--acr', 'urn:loa:2', '--amr', 'pwd,otp');
    expect(result.code).toBe(0);
    const [summary, valueLine] = result.stdout.split('\n');
    const value = valueLine!.replace(/^cookie value: /, '');
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = sessionIdOf(value);
    expect(summary).toMatch(new RegExp(`^created session ${id.replace(/[-]/g, '\\-')} for alice \\(ends \\S+Z at the latest, or after 600s idle\\)$`));
    const record = await store.session(id);
    expect(record).toMatchObject({ subject: 'alice', claims: { acr: 'urn:loa:2', amr: ['pwd', 'otp'], auth_time: record!.createdAt } });
    expect(record!.expiresAt - record!.createdAt).toBe(7200);
    expect(auditLines().at(-1)).toMatchObject({ action: 'sessions.create', target: { id, subject: 'alice', acr: 'urn:loa:2', amr: 'pwd,otp' } });
    expect(auditText()).not.toContain(value);
    const listed = await sessions('list', '--subject', 'alice', '--format', 'json');
    expect(listed.stdout).not.toContain(value);
    expect(JSON.parse(listed.stdout).sessions).toContainEqual(expect.objectContaining({ id, subject: 'alice', ended: false }));
  });

  it('revoke ID ends the session (logout); a cookie value given instead is refused with its id', async () => {
    const created = JSON.parse((await sessions('create', '--subject', 'bob', '--format', 'json')).stdout) as { id: string; cookie_value: string };
    expect(created.id).toBe(sessionIdOf(created.cookie_value));
    const wrong = await sessions('revoke', created.cookie_value);
    expect(wrong).toEqual({ code: 2, stdout: '', stderr: `keycard sessions revoke: that is a session's cookie value, not its id: its id is ${created.id}` });
    expect(await sessions('revoke', created.id)).toEqual({ code: 0, stdout: `ended session ${created.id} of bob`, stderr: '' });
    expect(await store.session(created.id)).toBeUndefined();
    expect(auditLines().at(-1)).toMatchObject({ action: 'sessions.revoke', target: { id: created.id, subject: 'bob' } });
    expect((await sessions('revoke', created.id)).stdout).toBe(`no session ${created.id}: nothing to revoke`);
    expect((await sessions('list', '--subject', 'bob')).stdout).toBe('no sessions');
  });

  it('revokes a session whose id starts with "-" (one id in 64 does; it is not an option)', async () => {
    const id = `-${'A'.repeat(42)}`;
    const now = Math.floor(Date.now() / 1000);
    await store.putSession({ id, subject: 'dash', createdAt: now, lastSeenAt: now, expiresAt: now + 600 });
    expect(await sessions('revoke', id)).toEqual({ code: 0, stdout: `ended session ${id} of dash`, stderr: '' });
    expect(await store.session(id)).toBeUndefined();
  });

  it('refuses bad input precisely, and writes to a memory store', async () => {
    await expect(sessionsCommand(['create', '--config', config])).rejects.toThrow('sessions create needs --subject S (who the session acts as)');
    await expect(sessionsCommand(['list', '--amr', 'pwd', '--config', config])).rejects.toThrow('sessions: --acr and --amr are for sessions create');
    expect((await sessions('create', '--subject', 'a', '--amr', 'pwd,,otp')).stderr).toBe('keycard sessions create: --amr "" must be 1 to 64 characters without whitespace, "," or control characters');
    expect((await sessions('revoke', 'nope')).stderr).toBe('keycard sessions revoke: session id "nope" is not 43 base64url characters');
    const memory = await capture(() => sessionsCommand(['create', '--subject', 's', '--config', memoryConfig]));
    expect(memory.stderr).toBe(`keycard sessions create: ${MEMORY_STORE_REFUSAL}`);
  });
});
