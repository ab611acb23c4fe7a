// The `shadow` section of the settings file: its directory resolves like `policies.dir`, its
// defaults, and precise errors for what it does not accept.
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { formatConfigIssue } from '../../src/errors.js';
import { configError } from '../helpers/config-error.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
afterEach(() => workspace?.remove());

function load(text: string) {
  workspace = new Workspace();
  return loadSettings(workspace.write('conf/keycard.yaml', text));
}

describe('settings: shadow', () => {
  it('is off unless configured', () => {
    expect(load('policies: { dir: policies }\n').shadow).toBeUndefined();
  });

  it('resolves its directory against the settings file, watches it and bounds the work in flight by default', () => {
    const settings = load('policies: { dir: policies }\nshadow: { dir: policies-next }\n');
    expect(settings.shadow).toEqual({ dir: workspace.path('conf/policies-next'), watch: true, maxInFlight: 1000 });
  });

  it('keeps an absolute directory and takes watch and maxInFlight', () => {
    expect(load('policies: { dir: p }\nshadow: { dir: /srv/next, watch: false, maxInFlight: 50 }\n').shadow).toEqual({ dir: '/srv/next', watch: false, maxInFlight: 50 });
  });

  it('rejects unknown keys and a limit that is not a positive integer, naming the key', () => {
    const unknown = configError(() => load('policies: { dir: p }\nshadow: { dir: next, enforce: true }\n')).issues.map(formatConfigIssue).join('\n');
    expect(unknown).toMatch(/keycard\.yaml:2:\d+ .*shadow/);
    expect(unknown).toContain('enforce');
    const limit = configError(() => load('policies: { dir: p }\nshadow: { dir: next, maxInFlight: 0 }\n')).issues.map(formatConfigIssue).join('\n');
    expect(limit).toMatch(/keycard\.yaml:2:\d+ .*shadow\.maxInFlight/);
    const noDir = configError(() => load('policies: { dir: p }\nshadow: { watch: true }\n')).issues.map(formatConfigIssue).join('\n');
    expect(noDir).toContain('shadow.dir');
  });
});
