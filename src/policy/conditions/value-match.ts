// Matching a claim or header value: equals, oneOf, present, or an RE2 regular expression.
// Regexes are compiled with RE2 (linear time, no backreferences or lookaround) so a policy can
// never cause catastrophic backtracking; a pattern RE2 cannot compile is a load error.
import RE2 from 're2';
import { z } from 'zod';
import type { CompileContext } from './types.js';

export const valueMatchShape = {
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  oneOf: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
  present: z.boolean().optional(),
  /** RE2 syntax; the whole value must match (anchored). */
  matches: z.string().min(1).optional(),
};

export interface ValueMatchSpec {
  equals?: string | number | boolean;
  oneOf?: (string | number | boolean)[];
  present?: boolean;
  matches?: string;
}

export const VALUE_MATCH_KEYS = ['equals', 'oneOf', 'present', 'matches'] as const;

export interface ValueMatcher {
  readonly description: string;
  /**
   * `values` are the candidate values (an array claim gives several, an object claim none);
   * undefined when the claim or header is absent.
   */
  test(values: readonly string[] | undefined): boolean;
}

/** Compiles exactly one of equals/oneOf/present/matches; returns a problem text otherwise. */
export function compileValueMatch(spec: ValueMatchSpec): ValueMatcher | { problem: string; key?: string } {
  const given = VALUE_MATCH_KEYS.filter((key) => spec[key] !== undefined);
  // Point at the second matcher when there are two; at the condition itself when there is none.
  if (given.length !== 1) return { problem: `use exactly one of ${VALUE_MATCH_KEYS.join(', ')}`, ...(given[1] && { key: given[1] }) };
  if (spec.present !== undefined) {
    const want = spec.present;
    return { description: want ? 'is present' : 'is absent', test: (values) => (values !== undefined) === want };
  }
  if (spec.matches !== undefined) {
    let regex: RE2;
    try {
      new RE2(spec.matches, 'u'); // Alone first: an unbalanced ")" must not close the anchoring group below.
      regex = new RE2(`^(?:${spec.matches})$`, 'u');
    } catch (error) {
      return { problem: `not a valid RE2 regular expression: ${(error as Error).message}`, key: 'matches' };
    }
    return { description: `matches /${spec.matches}/`, test: (values) => values?.some((value) => regex.test(value)) ?? false };
  }
  const allowed = (spec.oneOf ?? [spec.equals!]).map(String);
  const description = allowed.length === 1 ? `equals ${JSON.stringify(allowed[0])}` : `is one of [${allowed.join(', ')}]`;
  return { description, test: (values) => values?.some((value) => allowed.includes(value)) ?? false };
}

/** compileValueMatch, reporting a problem as a load error at the offending key. */
export function valueMatcherOrReport(spec: ValueMatchSpec, context: CompileContext): ValueMatcher | undefined {
  const matcher = compileValueMatch(spec);
  if ('test' in matcher) return matcher;
  context.issue('invalid_value', matcher.key ? [matcher.key] : [], matcher.problem);
  return undefined;
}
