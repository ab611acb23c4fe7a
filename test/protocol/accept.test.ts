// Accept negotiation for deny answers: HTML only when text/html is strictly preferred to JSON.
import { describe, expect, it } from 'vitest';
import { MAX_ACCEPT_LENGTH, MAX_MEDIA_RANGES, parseAccept, prefersHtml } from '../../src/protocol/accept.js';

const CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SAFARI = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('prefersHtml', () => {
  it.each<[string, string | undefined, boolean]>([
    // Browsers navigating.
    ['Chrome', CHROME, true],
    ['Firefox', FIREFOX, true],
    ['Safari', SAFARI, true],
    // API clients and defaults.
    ['no Accept header', undefined, false],
    ['an empty Accept', '', false],
    ['curl (*/*)', '*/*', false],
    ['application/json', 'application/json', false],
    ['JSON first, then anything', 'application/json, */*;q=0.1', false],
    ['fetch() default', '*/*', false],
    ['text/html and JSON at equal weight', 'text/html, application/json', false],
    ['JSON preferred by weight', 'text/html;q=0.5, application/json', false],
    ['HTML preferred by weight', 'text/html;q=0.9, application/json;q=0.8', true],
    ['HTML preferred by a thousandth', 'text/html;q=0.501, application/json;q=0.5', true],
    ['text/* beats an unmentioned JSON', 'text/*', true],
    ['application/* gives JSON a weight', 'text/*;q=0.5, application/*', false],
    ['text/html refused outright', 'text/html;q=0, */*', false],
    ['only refusals', 'text/html;q=0, application/json;q=0', false],
    ['a more specific range overrides a wildcard', '*/*;q=0.1, text/html', true],
    ['a more specific range overrides a higher wildcard', 'text/*;q=1, text/html;q=0.1, */*;q=0.5', false],
    ['JSON refused, HTML by wildcard', 'application/json;q=0, */*', true],
    ['case-insensitive types and q', 'TEXT/HTML;Q=0.9, Application/JSON;q=0.1', true],
    ['charset parameter that matches', 'text/html;charset=UTF-8, application/json;q=0.5', true],
    ['a parameter the page lacks does not match', 'text/html;level=1, application/json;q=0.5', false],
    ['a quoted parameter', 'text/html;charset="utf-8", application/json;q=0.5', true],
    ['empty list elements', ' , text/html ,, application/json;q=0.5 ,', true],
    ['whitespace around parameters', 'text/html \t; q=0.9 , application/json ; q=0.8', true],
    ['HTML only via text/html among others, no JSON match', 'image/webp, text/html;q=0.2', true],
    ['a tab, comma and escaped quote in a quoted value', 'image/png;a="x\t,\\"y", text/html, application/json;q=0.1', true],
    // Malformed: JSON.
    ['a bare token', 'html', false],
    ['a missing subtype', 'text/, */*', false],
    ['*/html', '*/html', false],
    ['q above 1', 'text/html;q=1.5', false],
    ['q with four decimals', 'text/html;q=0.1234', false],
    ['q not a number', 'text/html;q=high', false],
    ['a quoted q', 'text/html;q="0.9"', false],
    ['an unterminated quoted value', 'text/html;a="x, application/json', false],
    ['a parameter without a value', 'text/html;level, application/json;q=0.1', false],
    ['garbage after a range', 'text/html junk', false],
    ['a control character', 'text/html\u0001', false],
    ['a control character in a quoted value', 'text/html;a="x\u0001y", application/json;q=0.1', false],
    ['a non-ASCII token', 'tëxt/html', false],
  ])('%s → %s', (_name, accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });

  it('does not parse a header longer than any browser sends', () => {
    const padded = `text/html, ${'x'.repeat(MAX_ACCEPT_LENGTH)}/y`;
    expect(parseAccept(padded)).toBeDefined();
    expect(prefersHtml(padded)).toBe(false);
    expect(prefersHtml(`text/html,${' '.repeat(MAX_ACCEPT_LENGTH - 10)}`)).toBe(true);
  });

  it('refuses more media ranges than the limit, and accepts the limit', () => {
    const ranges = (n: number) => ['text/html', ...Array.from({ length: n - 1 }, (_, i) => `image/x${i};q=0.1`)].join(',');
    expect(parseAccept(ranges(MAX_MEDIA_RANGES))).toHaveLength(MAX_MEDIA_RANGES);
    expect(prefersHtml(ranges(MAX_MEDIA_RANGES))).toBe(true);
    expect(parseAccept(ranges(MAX_MEDIA_RANGES + 1))).toBeUndefined();
    expect(prefersHtml(ranges(MAX_MEDIA_RANGES + 1))).toBe(false);
  });

  it('parses hostile input in linear time', () => {
    // Long runs that a backtracking parser would chew on: an unterminated quote of escapes, many parameters, many commas.
    const hostile = [
      `text/html;a="${'\\"'.repeat(600)}`,
      `text/html${';a=b'.repeat(500)}`,
      `${','.repeat(MAX_ACCEPT_LENGTH - 9)}text/html`,
      `text/html;a="${'\\'.repeat(MAX_ACCEPT_LENGTH - 20)}`,
    ];
    const started = performance.now();
    for (let i = 0; i < 200; i++) for (const accept of hostile) prefersHtml(accept);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(prefersHtml(hostile[2])).toBe(true);
    expect(prefersHtml(hostile[0])).toBe(false);
  });

  it('reads weights in thousandths and unquotes parameter values', () => {
    expect(parseAccept('text/html;charset="u\\tf-8";q=0.25')).toEqual([{ type: 'text', subtype: 'html', params: [['charset', 'utf-8']], weight: 250 }]);
  });
});
