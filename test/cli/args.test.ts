import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dashSafeArgs } from '../../src/cli/args.js';

const OPTIONS = { subject: { type: 'string' }, json: { type: 'boolean' } } as const;
const parse = (args: string[]) => {
  const { values, positionals } = parseArgs({ args: dashSafeArgs(args, OPTIONS), options: OPTIONS, allowPositionals: true });
  return { values: { ...values }, positionals };
};

describe('dashSafeArgs', () => {
  it('keeps a value starting with "-" a positional, in order with the others', () => {
    expect(parse(['revoke', '-AbC_x', 'second'])).toEqual({ values: {}, positionals: ['revoke', '-AbC_x', 'second'] });
  });

  it('gives a string option a value starting with "-"', () => {
    expect(parse(['list', '--subject', '-alice', '--json'])).toEqual({ values: { subject: '-alice', json: true }, positionals: ['list'] });
  });

  it('leaves ordinary options, --opt=value and an explicit -- alone', () => {
    expect(parse(['--subject', 'bob', 'x', '--subject=-c', '--', '--not-an-option'])).toEqual({ values: { subject: '-c' }, positionals: ['x', '--not-an-option'] });
  });

  it('still refuses an unknown long option', () => {
    expect(() => parse(['--nope'])).toThrow(/Unknown option '--nope'/);
  });
});
