// The Envoy configs in envoy/ are valid Envoy bootstraps (checked against Envoy's own API protos
// and protoc-gen-validate rules, see test/helpers/envoy-validate.ts), follow keycard's rules for
// the proxy in front of it, and say what the README says they say. The fixtures in
// test/fixtures/envoy/invalid/ prove that each kind of mistake is caught, where it is.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { asArray, asObject } from '../helpers/envoy-pgv.js';
import {
  REPO_ROOT,
  canonicalEnvoyYaml,
  envoyConfigRegistry,
  formatEnvoyProblems,
  formatPath,
  policyServices,
  validateEnvoyObject,
  validateEnvoyYaml,
  type EnvoyProblem,
} from '../helpers/envoy-validate.js';

const ENVOY_DIR = join(REPO_ROOT, 'envoy');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/envoy');
const CONFIGS = readdirSync(ENVOY_DIR).filter((name) => name.endsWith('.yaml')).sort();
const read = (file: string) => readFileSync(file, 'utf8');
const envoyFile = (name: string) => read(join(ENVOY_DIR, name));

/** Follows `path` through canonical JSON; fails the test with the path when something is missing. */
function at(root: JsonValue, ...path: (string | number)[]): JsonValue {
  let node: JsonValue | undefined = root;
  for (const segment of path) {
    node = typeof segment === 'number' ? asArray(node)[segment] : asObject(node)?.[segment];
    if (node === undefined) throw new Error(`nothing at ${formatPath(path)}`);
  }
  return node;
}

const HCM_PATH = ['filter_chains', 0, 'filters', 0, 'typed_config'] as const;
const listener = (config: JsonObject, index = 0) => at(config, 'static_resources', 'listeners', index);
const hcm = (config: JsonObject, index = 0) => at(listener(config, index), ...HCM_PATH);
const cluster = (config: JsonObject, name: string): JsonObject => {
  const found = asArray(at(config, 'static_resources', 'clusters')).map(asObject).find((c) => c?.['name'] === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
};
const endpointAddress = (c: JsonObject) => at(c, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address');
const filterConfig = (config: JsonObject, name: string, listenerIndex = 0) => {
  const filter = asArray(at(hcm(config, listenerIndex), 'http_filters')).map(asObject).find((f) => f?.['name'] === name);
  if (!filter) throw new Error(`no http filter ${name}`);
  return at(filter, 'typed_config');
};
const routes = (config: JsonObject, vhost = 0, listenerIndex = 0) => asArray(at(hcm(config, listenerIndex), 'route_config', 'virtual_hosts', vhost, 'routes'));

describe('envoy/ configs', () => {
  it('are the sidecar, its Unix-socket, HTTP and mTLS + jwt_authn variants, and the gateway', () => {
    expect(CONFIGS).toEqual(['gateway.yaml', 'sidecar-http.yaml', 'sidecar-mtls-jwt.yaml', 'sidecar-uds.yaml', 'sidecar.yaml']);
  });

  it.each(CONFIGS)('%s is a valid Envoy bootstrap that keeps keycard\'s rules', (name) => {
    const source = `envoy/${name}`;
    expect(formatEnvoyProblems(validateEnvoyYaml(envoyFile(name), { source }), source)).toBe('');
  });

  describe('sidecar.yaml', () => {
    const config = canonicalEnvoyYaml(envoyFile('sidecar.yaml'));

    it('listens on 0.0.0.0:8080, with admin on loopback 9901', () => {
      expect(at(listener(config), 'address', 'socket_address')).toEqual({ address: '0.0.0.0', port_value: 8080 });
      expect(at(config, 'admin', 'address', 'socket_address')).toEqual({ address: '127.0.0.1', port_value: 9901 });
    });

    it('normalizes paths, rejects escaped slashes, takes the client address from the connection and sets x-request-id', () => {
      const manager = hcm(config);
      expect(at(manager, 'normalize_path')).toBe(true);
      expect(at(manager, 'merge_slashes')).toBe(true);
      expect(at(manager, 'path_with_escaped_slashes_action')).toBe('REJECT_REQUEST');
      expect(at(manager, 'use_remote_address')).toBe(true);
      expect(at(manager, 'generate_request_id')).toBe(true);
    });

    it('asks keycard over gRPC first, failing closed with 403, then routes', () => {
      expect(asArray(at(hcm(config), 'http_filters')).map((f) => at(f, 'name'))).toEqual(['envoy.filters.http.ext_authz', 'envoy.filters.http.router']);
      const extAuthz = filterConfig(config, 'envoy.filters.http.ext_authz');
      expect(at(extAuthz, 'grpc_service')).toEqual({ envoy_grpc: { cluster_name: 'keycard' }, timeout: '0.250s' });
      expect(at(extAuthz, 'transport_api_version')).toBe('V3');
      expect(asObject(extAuthz)?.['failure_mode_allow']).toBeUndefined(); // false, the default
      expect(at(extAuthz, 'status_on_error')).toEqual({ code: 'Forbidden' });
      expect(at(extAuthz, 'with_request_body')).toEqual({ max_request_bytes: 8192, allow_partial_message: true, pack_as_bytes: true });
      expect(at(extAuthz, 'include_peer_certificate')).toBe(true);
    });

    it('names the orders policy on every route but GET /healthz, which skips keycard', () => {
      const [healthz, orders] = routes(config);
      expect(at(healthz!, 'match', 'path')).toBe('/healthz');
      expect(at(healthz!, 'typed_per_filter_config', 'envoy.filters.http.ext_authz', 'disabled')).toBe(true);
      expect(at(orders!, 'match', 'prefix')).toBe('/');
      expect(at(orders!, 'typed_per_filter_config', 'envoy.filters.http.ext_authz', 'check_settings', 'context_extensions')).toEqual({ service: 'orders' });
      expect(at(orders!, 'route', 'cluster')).toBe('local_app');
      expect(endpointAddress(cluster(config, 'local_app'))).toEqual({ socket_address: { address: '127.0.0.1', port_value: 8081 } });
    });

    it('reaches keycard at 127.0.0.1:9001 over HTTP/2, health-checked with gRPC health', () => {
      const keycard = cluster(config, 'keycard');
      expect(endpointAddress(keycard)).toEqual({ socket_address: { address: '127.0.0.1', port_value: 9001 } });
      expect(at(keycard, 'typed_extension_protocol_options', 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions', 'explicit_http_config', 'http2_protocol_options')).toBeDefined();
      expect(at(keycard, 'health_checks', 0, 'grpc_health_check')).toEqual({ service_name: 'envoy.service.auth.v3.Authorization' });
    });
  });

  /** A copy of `config` without the parts at `paths` (JSON paths into canonical JSON). */
  function without(config: JsonObject, paths: readonly (readonly (string | number)[])[]): JsonObject {
    const copy = structuredClone(config);
    for (const path of paths) {
      const parent = at(copy, ...path.slice(0, -1));
      const last = path[path.length - 1]!;
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete asObject(parent)![String(last)];
    }
    return copy;
  }

  it('sidecar-uds.yaml is sidecar.yaml with keycard on /var/run/keycard/keycard.sock', () => {
    const sidecar = canonicalEnvoyYaml(envoyFile('sidecar.yaml'));
    const uds = canonicalEnvoyYaml(envoyFile('sidecar-uds.yaml'));
    expect(endpointAddress(cluster(uds, 'keycard'))).toEqual({ pipe: { path: '/var/run/keycard/keycard.sock' } });
    const keycardAddress = ['static_resources', 'clusters', 1, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address'];
    expect(without(uds, [keycardAddress])).toEqual(without(sidecar, [keycardAddress]));
  });

  describe('sidecar-http.yaml', () => {
    const sidecar = canonicalEnvoyYaml(envoyFile('sidecar.yaml'));
    const config = canonicalEnvoyYaml(envoyFile('sidecar-http.yaml'));
    const extAuthz = filterConfig(config, 'envoy.filters.http.ext_authz');

    it('asks keycard\'s HTTP check mode at 127.0.0.1:9002, naming the orders policy in the path', () => {
      expect(at(extAuthz, 'http_service', 'server_uri')).toEqual({ uri: 'http://127.0.0.1:9002', cluster: 'keycard_http', timeout: '0.250s' });
      expect(at(extAuthz, 'http_service', 'path_prefix')).toBe('/service/orders');
      expect(endpointAddress(cluster(config, 'keycard_http'))).toEqual({ socket_address: { address: '127.0.0.1', port_value: 9002 } });
      expect(at(cluster(config, 'keycard_http'), 'health_checks', 0, 'http_health_check', 'path')).toBe('/readyz');
    });

    it('passes x-keycard-* upstream and the challenge, content type, decision id and deny page headers to the client', () => {
      expect(at(extAuthz, 'http_service', 'authorization_response', 'allowed_upstream_headers')).toEqual({ patterns: [{ prefix: 'x-keycard-' }] });
      expect(at(extAuthz, 'http_service', 'authorization_response', 'allowed_client_headers')).toEqual({
        patterns: [
          { exact: 'www-authenticate' },
          { exact: 'content-type' },
          { exact: 'cache-control' },
          { exact: 'x-keycard-decision-id' },
          { exact: 'vary' },
          { exact: 'content-security-policy' },
          { exact: 'x-content-type-options' },
        ],
      });
      const sent = at(extAuthz, 'allowed_headers', 'patterns');
      expect(sent).toContainEqual({ prefix: 'x-keycard-' });
      // The deny page's content negotiation and session cookies need keycard to see these.
      expect(sent).toContainEqual({ exact: 'accept' });
      expect(sent).toContainEqual({ exact: 'cookie' });
    });

    it('is otherwise sidecar.yaml: same listener, hardening, routes and app cluster', () => {
      const httpFilters = [...HCM_PATH, 'http_filters', 0];
      const accessLog = [...HCM_PATH, 'access_log'];
      const ordersRoute = [...HCM_PATH, 'route_config', 'virtual_hosts', 0, 'routes', 1, 'typed_per_filter_config'];
      const differs = (c: JsonObject) => without(c, [
        ['static_resources', 'listeners', 0, ...httpFilters],
        ['static_resources', 'listeners', 0, ...accessLog],
        ['static_resources', 'listeners', 0, ...ordersRoute],
        ['static_resources', 'clusters', 1],
      ]);
      expect(differs(config)).toEqual(differs(sidecar));
    });
  });

  describe('gateway.yaml', () => {
    const config = canonicalEnvoyYaml(envoyFile('gateway.yaml'));

    it('asks the shared keycard Deployment by DNS, over HTTP/2, health-checked', () => {
      const keycard = cluster(config, 'keycard');
      expect(at(keycard, 'type')).toBe('STRICT_DNS');
      expect(endpointAddress(keycard)).toEqual({ socket_address: { address: 'keycard.keycard.svc.cluster.local', port_value: 9001 } });
      expect(at(keycard, 'health_checks', 0, 'grpc_health_check')).toEqual({ service_name: 'envoy.service.auth.v3.Authorization' });
      expect(at(filterConfig(config, 'envoy.filters.http.ext_authz'), 'grpc_service', 'envoy_grpc')).toEqual({ cluster_name: 'keycard' });
    });

    it('routes each host and path to its service with that service\'s policy', () => {
      const serviceOf = (owner: JsonValue) =>
        asObject(asObject(asObject(asObject(asObject(owner)?.['typed_per_filter_config'])?.['envoy.filters.http.ext_authz'])?.['check_settings'])?.['context_extensions'])?.['service'];
      const table = asArray(at(hcm(config), 'route_config', 'virtual_hosts')).flatMap((vhost) =>
        asArray(at(vhost, 'routes')).map((route) => {
          const match = asObject(at(route, 'match')) ?? {};
          return [
            `${String(at(vhost, 'domains', 0))}${String(match['path_separated_prefix'] ?? match['prefix'])}`,
            asObject(asObject(route)?.['route'])?.['cluster'] ?? 'direct_response',
            serviceOf(route) ?? serviceOf(vhost) ?? 'keycard not asked',
          ];
        }),
      );
      expect(table).toEqual([
        ['shop.example.com/orders', 'orders', 'orders'],
        ['shop.example.com/products', 'catalog', 'catalog'],
        ['shop.example.com/', 'direct_response', 'keycard not asked'],
        ['catalog.example.com/', 'catalog', 'catalog'],
        ['*/', 'direct_response', 'keycard not asked'],
      ]);
    });

    it('terminates TLS on 8443 and answers plain HTTP on 8080 with a readiness check and a redirect', () => {
      expect(at(listener(config, 0), 'address', 'socket_address', 'port_value')).toBe(8443);
      expect(at(listener(config, 0), 'filter_chains', 0, 'transport_socket', 'name')).toBe('envoy.transport_sockets.tls');
      expect(at(listener(config, 1), 'address', 'socket_address', 'port_value')).toBe(8080);
      expect(at(routes(config, 0, 1)[0]!, 'redirect')).toEqual({ https_redirect: true });
    });
  });
});

describe('negative fixtures (test/fixtures/envoy/invalid)', () => {
  const invalid = readdirSync(join(FIXTURES, 'invalid')).filter((name) => name.endsWith('.yaml')).sort();

  it.each(readdirSync(join(FIXTURES, 'valid')))('their base valid/%s passes', (name) => {
    const source = `valid/${name}`;
    expect(formatEnvoyProblems(validateEnvoyYaml(read(join(FIXTURES, 'valid', name))), source)).toBe('');
  });

  it('cover the mistakes the brief names: a misspelt key, a duration of the wrong type, an unknown @type', () => {
    expect(invalid).toEqual(expect.arrayContaining(['typo-failure-mode-alow.yaml', 'duration-without-unit.yaml', 'unknown-type.yaml']));
  });

  // Each fixture says what it must be rejected with: `# expect: LINE:COL CODE PATH-SUFFIX: MESSAGE`.
  it.each(invalid)('%s is rejected with exactly the problems it names', (name) => {
    const text = read(join(FIXTURES, 'invalid', name));
    const expected = [...text.matchAll(/^# expect: (\d+):(\d+) (\w+) (.+)$/gm)].map((m) => ({ line: Number(m[1]), column: Number(m[2]), code: m[3], tail: m[4]! }));
    expect(expected.length, `${name} names no "# expect:" problem`).toBeGreaterThan(0);
    const problems = validateEnvoyYaml(text);
    const shown = formatEnvoyProblems(problems, name);
    expect(problems, shown).toHaveLength(expected.length);
    for (const expectation of expected) {
      const found = problems.find((p: EnvoyProblem) =>
        p.line === expectation.line && p.column === expectation.column && p.code === expectation.code &&
        `${formatPath(p.path)}: ${p.message}`.endsWith(expectation.tail));
      expect(found, `expected ${JSON.stringify(expectation)}\nin\n${shown}`).toBeDefined();
    }
  });
});

describe('the validator', () => {
  it('reads the services keycard has policies for from examples/policies', () => {
    expect([...policyServices()].sort()).toEqual(['catalog', 'orders', 'todos']);
  });

  it('takes the list of known services as an option', () => {
    const problems = validateEnvoyYaml(envoyFile('sidecar.yaml'), { knownServices: ['catalog'] });
    expect(formatEnvoyProblems(problems, 'sidecar.yaml')).toMatch(/\[keycard\] .*context_extensions\.service: service "orders" has no keycard policy \(known: catalog\)/);
  });

  it('can accept deprecated fields when asked', () => {
    const text = read(join(FIXTURES, 'invalid', 'deprecated-field.yaml'));
    expect(validateEnvoyYaml(text).map((p) => p.code)).toEqual(['deprecated']);
    expect(validateEnvoyYaml(text, { allowDeprecated: true })).toEqual([]);
  });

  it('validates an Envoy config embedded in a Kubernetes ConfigMap, and a parsed object', () => {
    const configMap = stringifyYaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'orders-envoy' },
      data: { 'envoy.yaml': envoyFile('sidecar.yaml') },
    });
    const embedded = asObject(asObject(parseYaml(configMap) as JsonValue)?.['data'])?.['envoy.yaml'];
    expect(typeof embedded).toBe('string');
    expect(validateEnvoyYaml(String(embedded), { source: 'configmap.yaml data.envoy.yaml' })).toEqual([]);
    const broken = String(embedded).replace('failure_mode_allow: false', 'failure_mode_allow: true');
    expect(formatEnvoyProblems(validateEnvoyObject(parseYaml(broken)), 'configmap.yaml')).toMatch(/\[keycard\] .*failure_mode_allow: must be false/);
  });

  it('uses a validate.proto that has ignore_empty (the one @grpc/grpc-js-xds ships does not)', () => {
    const registry = envoyConfigRegistry();
    const numbers = Object.fromEntries(
      ['FloatRules', 'Int64Rules', 'UInt32Rules', 'SFixed64Rules', 'StringRules', 'BytesRules', 'RepeatedRules', 'MapRules'].map((name) => [
        name,
        registry.getMessage(`validate.${name}`)?.fields.find((f) => f.name === 'ignore_empty')?.number,
      ]),
    );
    expect(numbers).toEqual({ FloatRules: 8, Int64Rules: 8, UInt32Rules: 8, SFixed64Rules: 8, StringRules: 26, BytesRules: 14, RepeatedRules: 5, MapRules: 6 });
  });
});

describe('proto/validate-compat/validate/validate.proto', () => {
  const shipped = read(join(REPO_ROOT, 'node_modules/@grpc/grpc-js-xds/deps/protoc-gen-validate/validate/validate.proto')).replaceAll('\r\n', '\n');
  const compat = read(join(REPO_ROOT, 'proto/validate-compat/validate/validate.proto'));

  it('is the shipped file plus only the ignore_empty fields upstream protoc-gen-validate has', () => {
    const body = compat.slice(compat.indexOf('syntax = "proto2";'));
    const added = /\n\n {2,4}\/\/ IgnoreEmpty specifies that the validation rules of this field should be\n {2,4}\/\/ evaluated only if the field is not empty\n {2,4}optional bool ignore_empty = (\d+);/g;
    expect([...body.matchAll(added)].map((m) => Number(m[1]))).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 26, 14, 5, 6]);
    expect(body.replace(added, '')).toBe(shipped);
  });
});
