// The fast way to read an API description written as JSON. Published descriptions are large JSON
// files (GitHub's is 13 MB); parsing one with the YAML reader (which keeps every position for
// error messages) took seconds, JSON.parse takes tens of milliseconds. JSON.parse keeps the last of
// two equal keys without a word, where the YAML reader refuses them with a line and column, so a
// document with a duplicate key is left to the YAML reader, as is anything that is not JSON.

/** The document's value, or undefined when the text is not JSON or an object repeats a key. */
export function parseJsonDocument(text: string): unknown {
  const start = text.charCodeAt(firstNonSpace(text, 0));
  // Only an object or array can be a description; a bare scalar is left to the YAML reader too.
  if (start !== OPEN_OBJECT && start !== OPEN_ARRAY) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return hasDuplicateKey(text) ? undefined : value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;

/**
 * A bracket, or a string up to its first quote or backslash (and, for a plain string, the colon
 * that makes it a key). The regex engine skips everything else (spaces, numbers, commas) in native
 * code, twice as fast on a large document as looking at each character here. A string with escapes
 * is finished by closingQuote(): a pattern that also matched escapes would backtrack per escape and
 * overflow on a long run of them.
 */
const TOKEN = /"[^"\\]*(["\\])(\s*:)?|[{}[\]]/g;

function firstNonSpace(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  return i;
}

/** Whether an object in `text` (valid JSON) has two equal keys: the open objects' keys on a stack (null for an array). */
function hasDuplicateKey(text: string): boolean {
  const open: (Set<string> | null)[] = [];
  const token = new RegExp(TOKEN);
  for (let match = token.exec(text); match !== null; match = token.exec(text)) {
    const start = match.index;
    const c = text.charCodeAt(start);
    if (c === OPEN_OBJECT) {
      open.push(new Set());
    } else if (c === OPEN_ARRAY) {
      open.push(null);
    } else if (c !== QUOTE) {
      open.pop();
    } else if (match[1] === '"') {
      // A string without escapes, a key when the colon followed.
      if (match[2] !== undefined && addKey(open, text.slice(start + 1, token.lastIndex - 1 - match[2].length))) return true;
    } else {
      const end = closingQuote(text, start);
      const after = firstNonSpace(text, end + 1);
      const isKey = text.charCodeAt(after) === COLON;
      token.lastIndex = isKey ? after + 1 : end + 1;
      // Escapes spell the same key differently ("a" and "\u0061"): compare decoded keys.
      if (isKey && addKey(open, JSON.parse(text.slice(start, end + 1)) as string)) return true;
    }
  }
  return false;
}

/** Adds `key` to the innermost open object's keys; true when it was there already. */
function addKey(open: readonly (Set<string> | null)[], key: string): boolean {
  const keys = open[open.length - 1];
  if (!keys) return false;
  if (keys.has(key)) return true;
  keys.add(key);
  return false;
}

/** The index of the quote closing the string that opens at `start` (one not escaped by a backslash). */
function closingQuote(text: string, start: number): number {
  let end = start;
  for (;;) {
    end = text.indexOf('"', end + 1);
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
  }
}
