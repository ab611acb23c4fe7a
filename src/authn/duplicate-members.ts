// RFC 7515 §4 and RFC 7519 §4 let a JWT parser either reject a header or claims set that names a
// member twice, or keep the last one. keycard rejects: JSON.parse keeps the last, but the service
// behind Envoy may read the same token with a parser that keeps the first (or rejects it), and then
// keycard would have authorized a different caller than the one the service sees.

/** The first member name that occurs twice in one JSON object of `text`, or undefined. `text` must be valid JSON. */
export function duplicateMember(text: string): string | undefined {
  // One entry per open container: the names seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = stringEnd(text, i);
      const names = open[open.length - 1];
      if (names && expectName) {
        const literal = text.slice(i, end + 1);
        // Escapes spell the same name differently ("sub" and "s\u0075b"): compare decoded names.
        const name = literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (code === OPEN_BRACE) {
      open.push(new Set());
      expectName = true;
    } else if (code === OPEN_BRACKET) {
      open.push(null);
      expectName = false;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      open.pop();
    } else if (code === COMMA) {
      expectName = open[open.length - 1] != null;
    }
  }
  return undefined;
}

/** A duplicate member in the protected header or the payload of a compact JWS, described; or undefined. */
export function duplicateMemberInJws(token: string): string | undefined {
  const [header = '', payload = ''] = token.split('.', 2);
  for (const [part, encoded] of [['header', header], ['payload', payload]] as const) {
    const name = duplicateMember(Buffer.from(encoded, 'base64url').toString('utf8'));
    if (name !== undefined) return `the JWT ${part} names ${JSON.stringify(name)} twice`;
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** Index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) i++;
    else if (code === QUOTE) return i;
  }
  return text.length - 1;
}
