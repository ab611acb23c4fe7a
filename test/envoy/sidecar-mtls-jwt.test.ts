// envoy/sidecar-mtls-jwt.yaml: jwt_authn verifies bearer JWTs once and puts the payload where
// keycard's envoyJwt credential reads it, ext_authz sends that metadata, the listener requires a
// client certificate (source.principal for the mtls credential), and a forged
// x-forwarded-client-cert never reaches keycard. (Its validity is checked in envoy-config.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { JWT_AUTHN_NAMESPACE } from '../../src/authn/credentials/envoy-jwt.js';
import { asArray, asObject } from '../helpers/envoy-pgv.js';
import { canonicalEnvoyYaml, formatEnvoyProblems, REPO_ROOT, validateEnvoyYaml } from '../helpers/envoy-validate.js';

const text = readFileSync(join(REPO_ROOT, 'envoy/sidecar-mtls-jwt.yaml'), 'utf8');
const config = canonicalEnvoyYaml(text);

function at(root: JsonValue | undefined, ...path: (string | number)[]): JsonValue {
  let node = root;
  for (const segment of path) node = typeof segment === 'number' ? asArray(node)[segment] : asObject(node)?.[segment];
  if (node === undefined) throw new Error(`nothing at ${path.join('.')}`);
  return node;
}

const chain = at(config, 'static_resources', 'listeners', 0, 'filter_chains', 0);
const hcm = at(chain, 'filters', 0, 'typed_config') as JsonObject;
const filters = asArray(at(hcm, 'http_filters')).map((filter) => asObject(filter)!);

describe('envoy/sidecar-mtls-jwt.yaml', () => {
  it('runs jwt_authn, then ext_authz, then the router', () => {
    expect(filters.map((filter) => filter['name'])).toEqual([JWT_AUTHN_NAMESPACE, 'envoy.filters.http.ext_authz', 'envoy.filters.http.router']);
  });

  it('puts the verified payload under jwt_payload (the envoyJwt default metadataKey) and lets keycard decide every request', () => {
    const jwtAuthn = at(filters[0], 'typed_config');
    expect(at(jwtAuthn, 'providers', 'corp_idp', 'payload_in_metadata')).toBe('jwt_payload');
    expect(at(jwtAuthn, 'providers', 'corp_idp', 'from_headers', 0)).toEqual({ name: 'authorization', value_prefix: 'Bearer ' });
    expect(at(jwtAuthn, 'rules', 0, 'requires')).toEqual({ allow_missing_or_failed: {} });
  });

  it('sends the jwt_authn metadata with the Check, failing closed', () => {
    const extAuthz = at(filters[1], 'typed_config');
    expect(at(extAuthz, 'metadata_context_namespaces')).toEqual([JWT_AUTHN_NAMESPACE]);
    expect(asObject(extAuthz)?.['failure_mode_allow']).toBeUndefined(); // false, the default, left out of canonical JSON
  });

  it('requires a client certificate of the mesh trust domain and strips client-sent x-forwarded-client-cert', () => {
    const tls = at(chain, 'transport_socket', 'typed_config');
    expect(at(tls, 'require_client_certificate')).toBe(true);
    expect(at(tls, 'common_tls_context', 'validation_context', 'match_typed_subject_alt_names', 0)).toEqual({ san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } });
    // SANITIZE is the enum's default, which canonical JSON leaves out.
    expect(hcm['forward_client_cert_details'] ?? 'SANITIZE').toBe('SANITIZE');
  });

  it('is checked field by field: a misspelt jwt_authn key is caught', () => {
    const broken = text.replace('payload_in_metadata: jwt_payload', 'payload_in_metadat: jwt_payload');
    expect(formatEnvoyProblems(validateEnvoyYaml(broken, { source: 'broken.yaml' }), 'broken.yaml')).toMatch(/payload_in_metadat: key "payload_in_metadat" is unknown/);
  });
});
