// `matches:` uses RE2: linear-time matching, so no policy can cause catastrophic backtracking,
// and features RE2 lacks (backreferences, lookaround) are load errors with a location. The
// pattern must match the whole value.
import { describe, expect, it } from 'vitest';
import { holdsWhen, requestWith, whenErrors } from '../../helpers/policy.js';

/** A condition testing the x-v header with `matches: pattern` (YAML single-quoted). */
function headerMatches(pattern: string): string {
  return `{ header: { name: x-v, matches: '${pattern.replace(/'/g, "''")}' } }`;
}

async function matches(pattern: string, value: string): Promise<boolean> {
  return holdsWhen(headerMatches(pattern), { request: requestWith({ 'x-v': value }, undefined) });
}

const loadErrors = (pattern: string) => whenErrors(headerMatches(pattern));

describe('RE2 matching', () => {
  it('compiles a catastrophic-backtracking pattern and answers on a long non-matching input', async () => {
    const long = `${'a'.repeat(100_000)}!`;
    expect(await matches('(a+)+$', long)).toBe(false);
    expect(await matches('(a|aa)+', long)).toBe(false);
    expect(await matches('(a+)+$', 'a'.repeat(100_000))).toBe(true);
  });

  it('anchors the whole pattern, alternation included', async () => {
    expect(await matches('acme', 'acme')).toBe(true);
    expect(await matches('acme', 'xacmex')).toBe(false);
    expect(await matches('acme|beta', 'beta')).toBe(true);
    expect(await matches('acme|beta', 'acmex')).toBe(false);
    expect(await matches('acme|beta', 'xbeta')).toBe(false);
  });

  it('allows explicit anchors and flags inside the pattern', async () => {
    expect(await matches('^acme$', 'acme')).toBe(true);
    expect(await matches('(?i)ACME', 'acme')).toBe(true);
  });

  it('matches Unicode characters as characters', async () => {
    expect(await matches('caf.', 'café')).toBe(true);
    expect(await matches('\\p{Greek}+', 'αβγ')).toBe(true);
  });

  it('rejects a backreference at load, with its location', () => {
    expect(loadErrors('(a+)\\1')).toEqual([
      'policy.yaml:3:68 [invalid_value] rules[0].when[0].header.matches: not a valid RE2 regular expression: invalid escape sequence: \\1',
    ]);
  });

  it('rejects lookahead and lookbehind at load', () => {
    expect(loadErrors('(?=.*@example\\.com).*')).toEqual([
      'policy.yaml:3:68 [invalid_value] rules[0].when[0].header.matches: not a valid RE2 regular expression: invalid perl operator: (?=',
    ]);
    expect(loadErrors('(?<!admin)-.*')).toEqual([
      'policy.yaml:3:68 [invalid_value] rules[0].when[0].header.matches: not a valid RE2 regular expression: invalid perl operator: (?<!',
    ]);
  });

  it('rejects a pattern with an unbalanced group instead of letting it escape the anchors', () => {
    // Wrapped as ^(?:admin)|(.*)$, this would match every value.
    expect(loadErrors('admin)|(.*')).toEqual([
      'policy.yaml:3:68 [invalid_value] rules[0].when[0].header.matches: not a valid RE2 regular expression: unexpected ): admin)|(.*',
    ]);
    expect(loadErrors('(admin')[0]).toContain('not a valid RE2 regular expression');
  });

  it('rejects an empty pattern', () => {
    expect(loadErrors('')).toEqual([expect.stringMatching(/^policy\.yaml:3:68 \[invalid_value\] rules\[0\]\.when\[0\]\.header\.matches: /)]);
  });
});
