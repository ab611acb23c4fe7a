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

  it('has no editing notes left in it: comments are closed and headings are plain', () => {
    expect(readme.split('<!--').length, 'comment openers and closers pair up').toBe(readme.split('-->').length);
    const headings = readme.split('\n').filter((line) => /^#{1,6} /.test(line) && !insideCodeBlock(readme, line));
    for (const heading of headings) expect(heading, 'a heading with an unpaired quote is a pasted note').not.toMatch(/^[^"]*"[^"]*$/);
  });

  it('shows the two set-up commands', () => {
    expect(readme).toContain('make run');
    expect(readme).toContain('make test');
  });
});

/** Whether `line` first occurs inside a fenced code block (shell comments there start with #). */
function insideCodeBlock(text: string, line: string): boolean {
  const before = text.slice(0, text.indexOf(`\n${line}\n`) + 1);
  return (before.match(/^```/gm)?.length ?? 0) % 2 === 1;
}
