// The parser reports a schema violation with a code frame of `JSON.stringify(document, null, 2)`,
// not with a pointer. That text has one line per object member and array item, so a line
// number names exactly one place: this walks the document the way JSON.stringify lays it out and
// returns the pointer tokens of the lines asked for.

/** Pointer tokens of each wanted line (1-based) of `JSON.stringify(value, null, 2)`. */
export function pointersAtLines(value: unknown, wanted: ReadonlySet<number>): Map<number, string[]> {
  const found = new Map<number, string[]>();
  if (wanted.size === 0) return found;
  // What JSON.stringify writes (toJSON applied, undefined members dropped) as plain data.
  const plain: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  let line = 1;
  const mark = (tokens: string[]) => {
    if (wanted.has(line)) found.set(line, tokens);
  };
  mark([]);
  const visit = (node: unknown, tokens: string[]): void => {
    const entries: [string, unknown][] = Array.isArray(node)
      ? node.map((item, index) => [String(index), item])
      : typeof node === 'object' && node !== null
        ? Object.entries(node)
        : [];
    // `[]` and `{}` stay on their member's line.
    if (entries.length === 0) return;
    for (const [key, child] of entries) {
      line++;
      const childTokens = [...tokens, key];
      mark(childTokens);
      visit(child, childTokens);
    }
    line++; // the closing bracket
    mark(tokens);
  };
  visit(plain, []);
  return found;
}
