// `keycard coverage` on fixture services (test/fixtures/coverage/<case>/: settings, seed, an
// OpenAPI document and a policy with one known kind of gap): the exact report in every format.
// KEYCARD_UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageCommand } from '../../src/cli/coverage.js';
import { FINDING_CODES } from '../../src/registry/analysis/findings.js';
import { UsageError } from '../../src/cli/usage.js';
import { Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

const FIXTURES = 'test/fixtures/coverage';
const UPDATE = process.env.KEYCARD_UPDATE_GOLDEN === '1';

/** Case → the finding codes it must report (and nothing else), and its exit code without and with --strict. */
const CASES: Record<string, { codes: string[]; exit: number; strict: number }> = {
  clean: { codes: [], exit: 0, strict: 0 },
  unreachable: { codes: ['operation_unreachable'], exit: 2, strict: 2 },
  'anonymous-write': { codes: ['anonymous_unsafe_method'], exit: 2, strict: 2 },
  'dead-rule': { codes: ['rule_matches_no_operation'], exit: 0, strict: 1 },
  'dead-path': { codes: ['path_matches_no_operation'], exit: 0, strict: 1 },
  'param-mismatch': { codes: ['param_name_mismatch'], exit: 0, strict: 1 },
  'dry-run-rule': { codes: ['dry_run_only_grant'], exit: 0, strict: 1 },
  'dry-run-mode': { codes: ['dry_run_only_grant'], exit: 0, strict: 1 },
  permissions: { codes: ['permission_not_declared', 'permission_not_granted'], exit: 0, strict: 1 },
};

const FORMATS = { text: 'expected.txt', json: 'expected.json', markdown: 'expected.md' } as const;

function golden(file: string, actual: string): string {
  if (UPDATE) writeFileSync(file, `${actual}\n`);
  return readFileSync(file, 'utf8').replace(/\n$/, '');
}

describe('keycard coverage golden reports', () => {
  for (const [name, expected] of Object.entries(CASES)) {
    const dir = join(FIXTURES, name);
    const config = join(dir, 'keycard.yaml');
    for (const [format, file] of Object.entries(FORMATS)) {
      it(`${name}: ${format}`, async () => {
        const out = await capture(() => coverageCommand(['--config', config, '--format', format]));
        expect(out.stderr).toBe('');
        expect(out.code).toBe(expected.exit);
        expect(out.stdout).toBe(golden(join(dir, file), out.stdout));
      });
    }
    it(`${name}: reports exactly ${expected.codes.join(', ') || 'no findings'}; --strict exits ${expected.strict}`, async () => {
      const out = await capture(() => coverageCommand(['--config', config, '--format', 'json', '--strict']));
      const report = JSON.parse(out.stdout) as { findings: { code: string }[] };
      expect([...new Set(report.findings.map((entry) => entry.code))]).toEqual(expected.codes);
      expect(out.code).toBe(expected.strict);
    });
  }

  it('every finding code has a fixture', () => {
    const covered = new Set(Object.values(CASES).flatMap((entry) => entry.codes));
    expect(FINDING_CODES.filter((code) => !covered.has(code))).toEqual([]);
  });
});

describe('keycard coverage options and errors', () => {
  it('--service limits the report to one service', async () => {
    const out = await capture(() => coverageCommand(['--config', join(FIXTURES, 'clean', 'keycard.yaml'), '--service', 'orders', '--format', 'json']));
    expect(out.code).toBe(0);
    expect((JSON.parse(out.stdout) as { services: { service: string }[] }).services.map((entry) => entry.service)).toEqual(['orders']);
  });

  it('an unknown --service is an error (exit 2), not an empty clean report', async () => {
    const out = await capture(() => coverageCommand(['--config', join(FIXTURES, 'clean', 'keycard.yaml'), '--service', 'billing']));
    expect(out).toMatchObject({ code: 2, stdout: '' });
    expect(out.stderr).toBe(`keycard coverage: no policy in ${join(process.cwd(), FIXTURES, 'clean', 'policies')} serves service "billing"`);
  });

  it('a service without an API description is named when asked for', async () => {
    const workspace = new Workspace();
    try {
      workspace.write('policies/plain.yaml', 'service: plain\nrules: []\n');
      const config = workspace.write('keycard.yaml', 'policies: { dir: policies }\n');
      const out = await capture(() => coverageCommand(['--config', config, '--service', 'plain']));
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('service "plain" has no API description');
      // Without --service, services without a description are simply not part of the report.
      const all = await capture(() => coverageCommand(['--config', config]));
      expect(all).toMatchObject({ code: 0, stdout: '0 services, 0 operations: 0 errors, 0 warnings' });
    } finally {
      workspace.remove();
    }
  });

  it('a broken API description is a located load error: exit 2', async () => {
    const workspace = new Workspace();
    try {
      workspace.write('api.yaml', 'openapi: 3.0.3\ninfo: { title: x, version: "1" }\npaths:\n  /orders:\n    get: { responses: nope }\n');
      workspace.write('policies/orders.yaml', 'service: orders\napi: { openapi: ../api.yaml }\nrules: []\n');
      const config = workspace.write('keycard.yaml', 'policies: { dir: policies }\n');
      const out = await capture(() => coverageCommand(['--config', config]));
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(/api\.yaml:5:\d+ \[invalid_api_description\]/);
    } finally {
      workspace.remove();
    }
  });

  it('rejects an unknown format as a usage error', async () => {
    await expect(coverageCommand(['--format', 'html'])).rejects.toThrow(UsageError);
  });
});
