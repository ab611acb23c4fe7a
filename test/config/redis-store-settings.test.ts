// `store: { type: redis }` in the settings file: defaults, paths, the rules between keys, and
// messages that never repeat a password.
import { afterEach, describe, expect, it } from 'vitest';
import { parseRedisUrl, redactRedisUrl } from '../../src/config/redis-store-settings.js';
import { loadSettings } from '../../src/config/settings.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  workspace = undefined;
});

function load(store: string, name = 'keycard.yaml') {
  workspace = new Workspace();
  const file = workspace.write(name, `policies: { dir: p }\nstore:\n${store}`);
  return { file, settings: () => loadSettings(file) };
}

function problems(store: string): string {
  const { file, settings } = load(store);
  return configError(settings, 'settings loaded without error').message.replaceAll(file, 'keycard.yaml');
}

describe('redis store settings', () => {
  it('applies defaults', () => {
    expect(load('  type: redis\n  url: redis://127.0.0.1:6380/2\n').settings().store).toMatchObject({
      type: 'redis',
      url: 'redis://127.0.0.1:6380/2',
      keyPrefix: 'keycard:',
      commandTimeout: 250,
      connectTimeout: 1000,
    });
  });

  it('resolves the seed and TLS files against the settings file', () => {
    const { settings } = load(
      '  type: redis\n  url: rediss://redis.internal\n  seedFile: seed.yaml\n  tls: { caFile: tls/ca.pem, certFile: /abs/c.pem, keyFile: tls/c.key, servername: redis.internal }\n',
      'conf/keycard.yaml',
    );
    expect(settings().store).toMatchObject({
      seedFile: workspace!.path('conf/seed.yaml'),
      tls: { caFile: workspace!.path('conf/tls/ca.pem'), certFile: '/abs/c.pem', keyFile: workspace!.path('conf/tls/c.key'), servername: 'redis.internal' },
    });
  });

  it('takes Sentinel and Cluster forms', () => {
    expect(load('  type: redis\n  sentinels: [{ host: s1, port: 26379 }]\n  name: main\n  sentinelPasswordEnv: SPW\n  commandTimeout: 100ms\n').settings().store).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'main',
      sentinelPasswordEnv: 'SPW',
      commandTimeout: 100,
    });
    expect(load('  type: redis\n  cluster: [{ host: n1, port: 7000 }, { host: n2, port: 7001 }]\n  keyPrefix: "prod:"\n').settings().store).toMatchObject({
      cluster: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }],
      keyPrefix: 'prod:',
    });
  });

  it.each([
    ['no address', '  type: redis\n', '[invalid_value] store: set exactly one of url, sentinels and cluster'],
    ['two addresses', '  type: redis\n  url: redis://h\n  cluster: [{ host: n, port: 1 }]\n', 'store.cluster: set exactly one of url, sentinels and cluster'],
    ['a master name for sentinels', '  type: redis\n  sentinels: [{ host: s, port: 1 }]\n', 'store.name: sentinels need the master name in "name"'],
    ['no master name without sentinels', '  type: redis\n  url: redis://h\n  name: x\n', 'store.name: "name" (the master name) is for sentinels only'],
    ['rediss:// for tls', '  type: redis\n  url: redis://h\n  tls: { caFile: ca.pem }\n', 'store.tls: tls settings need a rediss:// url'],
    ['certFile with keyFile', '  type: redis\n  url: rediss://h\n  tls: { certFile: c.pem }\n', 'store.tls.keyFile: certFile and keyFile go together'],
    ['a database number', '  type: redis\n  url: redis://h/db1\n', 'store.url: the URL path must be a database number'],
    ['the redis scheme', '  type: redis\n  url: http://h:6379\n', 'store.url: the scheme must be redis:// or rediss://'],
    ['an env var name', '  type: redis\n  url: redis://h\n  passwordEnv: "my password"\n', 'store.passwordEnv: an environment variable name'],
    ['no braces in the prefix', '  type: redis\n  url: redis://h\n  keyPrefix: "{app}:"\n', 'store.keyPrefix: no whitespace, "{" or "}"'],
    ['a duration', '  type: redis\n  url: redis://h\n  commandTimeout: fast\n', 'store.commandTimeout: "fast" is not a duration'],
    ['known keys', '  type: redis\n  url: redis://h\n  pasword: x\n', '[unknown_key] store.pasword: unknown key "pasword"'],
    ['one place for the password', '  type: redis\n  url: redis://:pw@h\n  passwordEnv: PW\n', 'store.passwordEnv: the url already holds a password'],
  ])('requires %s', (_, store, expected) => {
    expect(problems(store)).toContain(expected);
  });

  it.each([
    ['a bad path', 'redis://:hunter2-secret@h:6379/x'],
    ['a bad scheme', 'http://user:hunter2-secret@h'],
    ['a bad port', 'redis://:hunter2-secret@h:99999'],
    ['a query', 'redis://:hunter2-secret@h?password=hunter2-secret'],
  ])('never repeats the password of a URL with %s', (_, url) => {
    const message = problems(`  type: redis\n  url: "${url}"\n`);
    expect(message).toMatch(/store\.url: /);
    expect(message).not.toContain('hunter2');
  });

  it('parses and redacts URLs', () => {
    expect(parseRedisUrl('rediss://u:p%40ss@[::1]:7000/5')).toEqual({ ok: true, value: { tls: true, host: '::1', port: 7000, db: 5, username: 'u', password: 'p@ss' } });
    expect(parseRedisUrl('redis://h')).toEqual({ ok: true, value: { tls: false, host: 'h', port: 6379, db: 0 } });
    expect(redactRedisUrl('redis://u:p%40ss@h:1/0')).toBe('redis://u:***@h:1/0');
    expect(redactRedisUrl('redis://h:1/0')).toBe('redis://h:1/0');
    expect(redactRedisUrl('::not a url p@ss')).toBe('(unparseable URL)');
  });
});
