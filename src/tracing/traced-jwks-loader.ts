// A JWKS fetch made while deciding (an unknown `kid`, or keys not yet loaded) becomes a
// `keycard.jwks.fetch` span under the identity phase: the request waited for it. Background
// refreshes (the timer, the load at start) are part of no request and get no span: they would
// be one-span traces every refresh interval per issuer and worker, and the fetch metric
// (keycard_jwks_fetches_total) and the warning log already tell when they fail.
import type { JwksLoader } from '../authn/key-set.js';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL, KEYCARD_ISSUER, KEYCARD_JWKS_FILE, SPAN_JWKS_FETCH } from './attributes.js';
import { endWith } from './end-span.js';
import { activeScope } from './scope.js';

export type JwksSource = { readonly uri: string } | { readonly file: string };

export function tracedJwksLoader(issuer: string, source: JwksSource, inner: JwksLoader): JwksLoader {
  const options = { client: 'uri' in source, attributes: { [KEYCARD_ISSUER]: issuer, ...sourceAttributes(source) } };
  return {
    description: inner.description,
    load() {
      const decision = activeScope()?.decision;
      const span = decision?.startChild(SPAN_JWKS_FETCH, options);
      return span === undefined ? inner.load() : endWith(span, decision!, inner.load());
    },
  };
}

function sourceAttributes(source: JwksSource): Record<string, string | number> {
  if ('file' in source) return { [KEYCARD_JWKS_FILE]: source.file };
  const url = new URL(source.uri);
  // Credentials in the URL are never recorded; nor is the query, which may carry an API key.
  url.username = '';
  url.password = '';
  url.search = '';
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { [ATTR_URL_FULL]: url.toString(), [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: port };
}
