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
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function firstNonSpace(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  return i;
}

/**
 * Whether an object in `text` (valid JSON) has two equal keys. One pass: the open objects' keys on
 * a stack (null for an array), each string skipped to its closing quote with indexOf.
 */
function hasDuplicateKey(text: string): boolean {
  const open: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (text.charCodeAt(firstNonSpace(text, end + 1)) === COLON) {
        const raw = text.slice(i + 1, end);
        // Escapes spell the same key differently ("a" and "\u0061"): compare decoded keys.
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        const keys = open[open.length - 1];
        if (keys) {
          if (keys.has(key)) return true;
          keys.add(key);
        }
      }
      i = end;
    } else if (c === OPEN_OBJECT) {
      open.push(new Set());
    } else if (c === OPEN_ARRAY) {
      open.push(null);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
    }
  }
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
