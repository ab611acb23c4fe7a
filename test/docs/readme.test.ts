// The README's reference tables stay true to the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ERRORS, DENY_REASONS, denySpec, type DenyReason } from '../../src/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists every deny reason with its HTTP status', () => {
    for (const reason of Object.keys(DENY_REASONS) as DenyReason[]) {
      expect(readme, reason).toMatch(new RegExp(`\\| \`${reason}\` \\| ${denySpec(reason).status} \\|`));
    }
  });

  it('names every policy load error code', () => {
    for (const code of Object.keys(CONFIG_ERRORS).filter((code) => code !== 'file_unreadable')) {
      expect(readme, code).toContain(`\`${code}\``);
    }
  });

  it('shows the two set-up commands', () => {
    expect(readme).toContain('make run');
    expect(readme).toContain('make test');
  });
});
