// fast-check arbitraries for request targets: path-like strings built from the pieces that matter
// to normalization (slashes, dot segments, escapes of every kind, the characters it rejects), and
// re-encodings of a path that must not change what it means.
import fc from 'fast-check';

/** Pieces of request targets that normalization accepts (dot segments, escapes, sub-delims, queries). */
const ACCEPTED = [
  '/', '//', '.', '..', './', '../', 'a', 'admin', 'Admin', 'x-y_z~', '42', 'é', '日本', '%2e', '%2E', '%2e%2e', '%41', '%61', '%7e', '%7E', '%25',
  '%252e', '%252F', '%3B', '%3b', '%C3%A9', '%c3%a9', '%20', '?a=/../', '#/..', '&', '=', '+', '@', ':', '!', '$', "'", '(', ')', '*', ',', ' ',
  '\u2028',
] as const;

/** Pieces it rejects: encoded slashes and NULs, broken escapes, backslashes, ";", control characters, a lone surrogate. */
const REJECTED = ['%2F', '%2f', '%5C', '%5c', '%00', '%', '%4', '%zz', ';', ';x=1', '\\', '\t', '\u0000', '\u007f', '\r\n', '\ud800'] as const;

const target = (pieces: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom('/', '/', '/', '', 'http://h', '*'), fc.array(pieces, { maxLength: 24 })).map(([start, parts]) => start + parts.join(''));

/** A path-like target: usually starting with "/", mostly acceptable pieces, sometimes rejected ones. */
export const pathLike: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: target(fc.constantFrom(...ACCEPTED)), weight: 2 },
  { arbitrary: target(fc.constantFrom(...ACCEPTED, ...REJECTED)), weight: 1 },
);

/** Any string at all, every code point (lone surrogates included). */
export const anyString: fc.Arbitrary<string> = fc.string({ unit: 'binary', maxLength: 120 });

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** `%XX` of a character below 0x80, in upper or lower case hex. */
function escape(char: string, upper: boolean): string {
  const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex.toLowerCase()}`;
}

/**
 * The path part of `target` split into tokens: a `%` with the two characters after it is one
 * token (re-encoding must never split an escape), every other character is its own token.
 */
export function pathTokens(target: string): { tokens: string[]; rest: string } {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  const rest = end === -1 ? '' : target.slice(end);
  const tokens: string[] = [];
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '%') {
      tokens.push(path.slice(i, i + 3));
      i += 2;
    } else tokens.push(path[i]!);
  }
  return { tokens, rest };
}

/**
 * Re-encodes `target` without changing its meaning: unreserved characters percent-encoded (either
 * hex case), the hex case of existing escapes flipped. `choices` picks per token.
 */
export function reencode(target: string, choices: readonly number[]): string {
  const { tokens, rest } = pathTokens(target);
  const out = tokens.map((token, i) => {
    const choice = choices[i % Math.max(choices.length, 1)] ?? 0;
    if (token.length === 1 && UNRESERVED.test(token) && choice % 3 !== 0) return escape(token, choice % 3 === 1);
    if (token.length === 3 && /^%[0-9A-Fa-f]{2}$/.test(token) && choice % 2 === 1) return token === token.toUpperCase() ? token.toLowerCase() : token.toUpperCase();
    return token;
  });
  return out.join('') + rest;
}

/** What respell puts in place of one slash: each resolves back to that slash. */
const DETOURS = ['/./', '/x/../', '//', '/%2e/', '/q/%2E%2e/'] as const;

/**
 * Re-spells `path` (a normalized path) with structure that resolves away: "./" and "x/../"
 * detours (plain or encoded), doubled slashes, a trailing slash, a query. `ops` picks where and what.
 */
export function respell(path: string, ops: readonly (readonly [number, number])[]): string {
  let out = path;
  let suffix = '';
  for (const [at, op] of ops) {
    if (op === DETOURS.length) {
      suffix = suffix === '' ? '/' : suffix;
      continue;
    }
    if (op > DETOURS.length) {
      suffix += '?next=/../../public#/..';
      continue;
    }
    const slashes = [...out.matchAll(/\//g)].map((match) => match.index);
    const index = slashes[at % slashes.length]!;
    out = out.slice(0, index) + DETOURS[op]! + out.slice(index + 1);
  }
  return out + suffix;
}

/** Choices for reencode. */
export const encodingChoices = fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 40 });

/** Operations for respell. */
export const respellOps = fc.array(fc.tuple(fc.nat({ max: 50 }), fc.nat({ max: 6 })), { maxLength: 4 });

/** A segment of a denied subtree: unreserved characters, sub-delims and escapes that stay encoded. */
export const segment: fc.Arbitrary<string> = fc
  .array(fc.constantFrom('a', 'B', '7', '-', '.', '_', '~', '!', '$', '&', "'", '(', ')', '*', '+', ',', '=', ':', '@', '%20', '%C3%A9', '%3B', '%25'), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((text) => text !== '.' && text !== '..');
