// Every invalid policy fixture fails with exactly the messages its `# expect:` lines name
// (file:line:column [code] key: message), and every valid fixture and example policy loads.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';
import { loadPolicies, loadPolicySet } from '../../src/policy/load-policies.js';
import { RelationSchema } from '../../src/policy/relations/schema.js';
import { configError } from '../helpers/config-error.js';
import { compileYaml } from '../helpers/policy.js';

const fixtures = fileURLToPath(new URL('../fixtures/policies/', import.meta.url));
const invalidDir = join(fixtures, 'invalid');
const validDir = join(fixtures, 'valid');

function expectedMessages(text: string): string[] {
  return [...text.matchAll(/^# expect: (.*)$/gm)].map((match) => match[1]!);
}

function loadError(file: string, text: string): string[] {
  return configError(() => compileYaml(text, ['test-idp'], file), `${file} loaded without error`).message.split('\n');
}

describe('invalid policy fixtures', () => {
  const files = readdirSync(invalidDir).filter((name) => name.endsWith('.yaml'));

  it('has fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)('%s fails with the expected message', (file) => {
    const text = readFileSync(join(invalidDir, file), 'utf8');
    const expected = expectedMessages(text);
    expect(expected.length, `${file} has no "# expect:" line`).toBeGreaterThan(0);
    const actual = loadError(file, text);
    expect(actual.length).toBe(expected.length);
    expected.forEach((message, index) => expect(actual[index]).toContain(message));
  });
});

describe('valid policies', () => {
  it('loads the valid fixtures', () => {
    const set = loadPolicies(validDir, { issuers: new Set(['test-idp']) });
    const full = set.route('full', '');
    expect(full?.hosts).toEqual(['full', 'full.example.test']);
    expect(full?.rules.map((rule) => rule.id)).toEqual(['open', 'by-role', 'no-v1']);
    expect([...(full?.rules[0]?.methods ?? [])]).toEqual(['GET', 'HEAD']);
    expect(full?.forward.identityHeaders).toBe(false);
    expect(set.route(undefined, 'full.example.test')?.service).toBe('full');
  });

  it('loads the example policies that `make run` uses', async () => {
    const examples = fileURLToPath(new URL('../../examples/policies/', import.meta.url));
    // The example orders policy has relation conditions: they need the example relation schema.
    const relationSchema = RelationSchema.fromSettings(loadSettings(fileURLToPath(new URL('../../examples/keycard.yaml', import.meta.url))).relations);
    // The orders policy names its OpenAPI document (api.openapi): the asynchronous loader reads it.
    const set = await loadPolicySet(examples, { issuers: new Set(['corp-idp']), relationSchema });
    expect(set.policies.map((policy) => policy.service).sort()).toEqual(['catalog', 'orders', 'todos']);
  });

  it('reports problems of several files together, and cross-file conflicts', () => {
    const dir = join(fixtures, 'conflicting');
    try {
      loadPolicies(dir, { issuers: new Set() });
      expect.unreachable('conflicting policies loaded');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const codes = (error as ConfigError).issues.map((issue) => issue.code);
      expect(codes).toEqual(['duplicate_service', 'duplicate_host']);
      expect((error as ConfigError).message).toContain('service "orders" is also defined in');
    }
  });

  it('rejects an empty or missing policy directory', () => {
    expect(() => loadPolicies(join(fixtures, 'does-not-exist'), { issuers: new Set() })).toThrow(/file_unreadable/);
  });
});
