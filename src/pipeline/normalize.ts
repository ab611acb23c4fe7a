// Canonical forms of the request path and host, so that a policy sees exactly one spelling of
// every path. Anything ambiguous (an encoded slash or backslash, a NUL, a `;` path parameter, a
// path that climbs above the root) is rejected rather than guessed at: the service behind Envoy
// might read it differently.

export type PathResult =
  | { readonly ok: true; readonly path: string; readonly segments: readonly string[]; readonly query: string }
  | { readonly ok: false; readonly problem: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Normalizes an HTTP request target (`:path`, query included).
 * - query and fragment are split off; they never take part in matching
 * - percent-encoded unreserved characters are decoded, other escapes get upper-case hex
 * - `%2F`, `%5C`, `%00`, a raw backslash or control character are rejected
 * - a raw `;` is rejected: servlet containers (Tomcat, Jetty, Spring) strip `;params` from each
 *   segment, so `/admin;x/users` is `/admin/users` to them but not to a deny rule on `/admin/**`.
 *   An encoded `%3B` is an ordinary character of the segment everywhere, and stays.
 * - duplicate slashes merge, `.` and `..` segments are resolved (RFC 3986 §5.2.4), escaping the root is rejected
 * - a trailing slash is dropped (except for `/`), so `/admin/` and `/admin` are the same path
 */
export function normalizePath(target: string): PathResult {
  const queryStart = target.search(/[?#]/);
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 || target[queryStart] === '#' ? '' : target.slice(queryStart + 1).split('#')[0]!;
  if (!rawPath.startsWith('/')) return { ok: false, problem: 'path must start with "/"' };

  const decoded = decodeUnreserved(rawPath);
  if (typeof decoded !== 'string') return decoded;

  const segments: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return { ok: false, problem: 'path escapes the root' };
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return { ok: true, path: `/${segments.join('/')}`, segments, query };
}

/** What decodeUnreserved has to look at: escapes, backslashes, `;`, control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NEEDS_DECODING = /[%;\\\x00-\x1f\x7f]/;

function decodeUnreserved(path: string): string | { ok: false; problem: string } {
  // Most paths have none of these: then the loop below would rebuild the same string.
  if (!NEEDS_DECODING.test(path)) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return { ok: false, problem: 'control character in path' };
    if (char === '\\') return { ok: false, problem: 'backslash in path' };
    if (char === ';') return { ok: false, problem: 'path parameter (";") in path' };
    if (char !== '%') {
      out += char;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { ok: false, problem: 'malformed percent-encoding' };
    const decodedChar = String.fromCharCode(parseInt(hex, 16));
    const upper = hex.toUpperCase();
    if (upper === '2F' || upper === '5C') return { ok: false, problem: 'encoded slash or backslash in path' };
    if (upper === '00') return { ok: false, problem: 'encoded NUL in path' };
    out += UNRESERVED.test(decodedChar) ? decodedChar : `%${upper}`;
    i += 2;
  }
  return out;
}

/**
 * One path segment as normalizePath spells it (`%7E` → `~`, `%c3` → `%C3`), for the literals of
 * path templates: a template written with other escapes than requests normalize to would never
 * match, and a deny rule that never matches is a hole.
 */
export function canonicalSegment(segment: string): { readonly ok: true; readonly segment: string } | { readonly ok: false; readonly problem: string } {
  const decoded = decodeUnreserved(segment);
  return typeof decoded === 'string' ? { ok: true, segment: decoded } : decoded;
}

/** `Orders.Shop.svc.:8080` → `orders.shop.svc`; `[::1]:80` → `[::1]`. */
export function normalizeHost(authority: string): string {
  let host = authority.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
