// JSON pointers (RFC 6901): how messages name a place in an OpenAPI document, e.g.
// `/paths/~1orders~1{id}/get` for the `get` operation of the path `/orders/{id}`.

export function escapeToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function unescapeToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

export function toPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((token) => `/${escapeToken(token)}`).join('');
}

/** The tokens of a pointer; `#/a/b` (URI fragment form, percent-decoded) is accepted as well. */
export function parsePointer(pointer: string): string[] {
  let text = pointer.startsWith('#') ? pointer.slice(1) : pointer;
  if (pointer.startsWith('#')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // A fragment with a stray "%": read it as written.
    }
  }
  if (text === '') return [];
  return text.slice(1).split('/').map(unescapeToken);
}
