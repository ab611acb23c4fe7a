// `explorer:` in the settings file: off by default, defaults filled in, the admin token file
// resolved against the settings file, and every bad key or value a located ConfigError; the token
// itself is read at start and checked there.
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { AdminToken, MIN_ADMIN_TOKEN_BYTES } from '../../src/explorer/admin-token.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  workspace = undefined;
});

function loadSettingsText(text: string) {
  workspace = new Workspace();
  return loadSettings(workspace.write('keycard.yaml', text));
}

const message = (text: string) => configError(() => loadSettingsText(text)).message.replace(workspace!.path('keycard.yaml'), 'keycard.yaml');

describe('settings explorer', () => {
  it('is off by default, with a ring of 500 and subjects shown', () => {
    expect(loadSettingsText('policies: { dir: p }\n').explorer).toEqual({ enabled: false, capacity: 500, maskSubjects: false });
  });

  it('reads every key, resolving the token file against the settings file', () => {
    const settings = loadSettingsText('policies: { dir: p }\nexplorer: { enabled: true, capacity: 50, adminTokenFile: secrets/token, maskSubjects: true }\n');
    expect(settings.explorer).toEqual({ enabled: true, capacity: 50, adminTokenFile: workspace!.path('secrets/token'), maskSubjects: true });
    expect(loadSettingsText('policies: { dir: p }\nexplorer: { enabled: true, adminTokenEnv: EXPLORER_TOKEN }\n').explorer.adminTokenEnv).toBe('EXPLORER_TOKEN');
  });

  it('reports an unknown key or a bad value with its place and the field', () => {
    expect(message('policies: { dir: p }\nexplorer:\n  enabled: true\n  path: /x\n')).toBe('keycard.yaml:4:3 [unknown_key] explorer.path: unknown key "path"');
    expect(message('policies: { dir: p }\nexplorer: { enabled: "yes" }\n')).toBe('keycard.yaml:2:22 [invalid_value] explorer.enabled: Invalid input: expected boolean, received string');
    expect(message('policies: { dir: p }\nexplorer: { capacity: 5 }\n')).toMatch(/^keycard\.yaml:2:23 \[invalid_value\] explorer\.capacity: Too small: expected number to be >=10$/);
    expect(message('policies: { dir: p }\nexplorer: { capacity: 100000 }\n')).toMatch(/explorer\.capacity: Too big: expected number to be <=10000$/);
    expect(message('policies: { dir: p }\nexplorer: { adminTokenEnv: "not a name" }\n')).toMatch(/explorer\.adminTokenEnv: an environment variable name/);
    expect(message('policies: { dir: p }\nexplorer: { adminTokenFile: t, adminTokenEnv: T }\n')).toMatch(/explorer\.adminTokenFile: set at most one of adminTokenFile and adminTokenEnv$/);
  });
});

describe('the admin token', () => {
  const files: Record<string, string> = { '/s/token': '  explorer-token-of-32-characters!!\n', '/s/short': 'short\n', '/s/empty': '\n' };
  const environment = {
    env: { GOOD: 'another-explorer-token-0123', SHORT: 'abc' } as Record<string, string | undefined>,
    readFile: (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    },
  };
  const token = (settings: { adminTokenFile?: string; adminTokenEnv?: string }) => new AdminToken(settings, 'keycard.yaml', environment);
  const loadError = (settings: { adminTokenFile?: string; adminTokenEnv?: string }) => configError(() => token(settings).load()).message;

  it('matches exactly the token (trimmed) from the file or the environment variable', () => {
    const fromFile = token({ adminTokenFile: '/s/token' });
    fromFile.load();
    expect(fromFile.configured).toBe(true);
    expect(fromFile.matches('explorer-token-of-32-characters!!')).toBe(true);
    expect(fromFile.matches('explorer-token-of-32-characters!')).toBe(false);
    expect(fromFile.matches('')).toBe(false);
    const fromEnv = token({ adminTokenEnv: 'GOOD' });
    fromEnv.load();
    expect(fromEnv.matches('another-explorer-token-0123')).toBe(true);
  });

  it('matches nothing when none is configured, or before it is loaded', () => {
    const none = token({});
    none.load();
    expect(none.configured).toBe(false);
    expect(none.matches('anything-at-all-0123456789')).toBe(false);
    expect(token({ adminTokenFile: '/s/token' }).matches('explorer-token-of-32-characters!!')).toBe(false);
  });

  it('refuses a missing, unset, empty or short token, naming the key and never the value', () => {
    expect(loadError({ adminTokenFile: '/s/none' })).toBe('keycard.yaml [file_unreadable] explorer.adminTokenFile: the explorer admin token cannot be read from /s/none: ENOENT');
    expect(loadError({ adminTokenEnv: 'UNSET' })).toBe('keycard.yaml [missing_key] explorer.adminTokenEnv: the environment variable UNSET (the explorer admin token) is not set or empty');
    expect(loadError({ adminTokenFile: '/s/empty' })).toBe(`keycard.yaml [invalid_value] explorer.adminTokenFile: the explorer admin token is empty; it needs at least ${MIN_ADMIN_TOKEN_BYTES} (e.g. openssl rand -base64 32)`);
    const short = loadError({ adminTokenEnv: 'SHORT' });
    expect(short).toBe(`keycard.yaml [invalid_value] explorer.adminTokenEnv: the explorer admin token is 3 bytes; it needs at least ${MIN_ADMIN_TOKEN_BYTES} (e.g. openssl rand -base64 32)`);
    expect(short).not.toContain('abc');
  });
});
