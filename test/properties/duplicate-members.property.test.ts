// Properties of the duplicate-member check keycard runs on every verified JWT: it never rejects a
// JSON object without duplicates (that would deny valid tokens), and it finds any name given twice
// in one object, however the second one is escaped or nested around.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateMember } from '../../src/authn/duplicate-members.js';

const RUNS = { numRuns: 400 } as const;

/** A JSON name escaped character by character where `mask` says so (\uXXXX), as a JSON string literal. */
function escapedLiteral(name: string, mask: readonly boolean[]): string {
  const body = [...name]
    .map((char, i) => (mask[i % Math.max(mask.length, 1)] && char.length === 1 ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(char).slice(1, -1)))
    .join('');
  return `"${body}"`;
}

describe('duplicateMember', () => {
  it('finds nothing in any JSON text JSON.stringify produces', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        expect(duplicateMember(JSON.stringify(value))).toBeUndefined();
        expect(duplicateMember(JSON.stringify(value, null, 2))).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('finds a name given twice in one object, escaped or not, wherever the object sits', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 5 }),
        fc.nat(),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('top', 'nested-object', 'in-array'),
        (object, pick, mask, value, where) => {
          const names = Object.keys(object);
          const name = names[pick % names.length]!;
          const withDuplicate = `${JSON.stringify(object).slice(0, -1)},${escapedLiteral(name, mask)}:${JSON.stringify(value)}}`;
          const text = where === 'top' ? withDuplicate : where === 'nested-object' ? `{"outer":${withDuplicate},"z":1}` : `[1,${withDuplicate}]`;
          expect(JSON.parse(text)).toBeTruthy();
          expect(duplicateMember(text)).toBe(name);
        },
      ),
      RUNS,
    );
  });

  it.each([
    ['{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}', undefined],
    ['{"a":"\\"a\\":","b":1}', undefined],
    ['{"a\\\\":1,"a":2}', undefined],
    ['{"sub":"alice","s\\u0075b":"root"}', 'sub'],
    ['{"a":[1,{"b":1,"b":2}]}', 'b'],
    ['{"":1,"":2}', ''],
  ])('%s → %j', (text, expected) => {
    expect(duplicateMember(text)).toBe(expected);
  });
});
