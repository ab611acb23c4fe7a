// The CredentialRequest of one AuthzInput. Cookies and the query string are parsed only when a
// configured credential asks for them.
import { DenyError } from '../../errors.js';
import type { AuthzInput } from '../../pipeline/types.js';
import type { ReadOptions } from '../../state/store.js';
import type { CredentialRequest } from './types.js';

const FAIL_CLOSED: ReadOptions = Object.freeze({});
const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

export function credentialRequest(input: AuthzInput, storeReads: ReadOptions = FAIL_CLOSED): CredentialRequest {
  let cookies: Map<string, string[]> | undefined;
  let query: URLSearchParams | undefined;
  return {
    header: (name) => input.headers.get(name),
    cookie(name) {
      cookies ??= parseCookies(input.headers.get('cookie'));
      return single(cookies.get(name), `cookie ${name}`);
    },
    query(name) {
      query ??= new URLSearchParams(queryString(input.path));
      return single(query.getAll(name), `query parameter ${name}`);
    },
    peerPrincipal: input.source.principal,
    peerAddress: input.source.address,
    filterMetadata: input.filterMetadata ?? NO_METADATA,
    storeReads,
  };
}

function single(values: readonly string[] | undefined, what: string): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  // Two values would let a proxy and keycard disagree about which one counts.
  if (values.length > 1) throw new DenyError('malformed_credential', `${values.length} values of ${what}`);
  return values[0];
}

/**
 * Cookie pairs (RFC 6265 §5.4). Several Cookie headers arrive joined by ", " or "; "; neither
 * separator may occur inside a cookie value, so both split.
 */
export function parseCookies(header: string | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  if (header === undefined) return cookies;
  for (const pair of header.split(/[;,]/)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const name = pair.slice(0, equals).trim();
    let value = pair.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const values = cookies.get(name);
    if (values) values.push(value);
    else cookies.set(name, [value]);
  }
  return cookies;
}

function queryString(target: string): string {
  const start = target.indexOf('?');
  if (start < 0) return '';
  const end = target.indexOf('#', start);
  return target.slice(start + 1, end < 0 ? undefined : end);
}
