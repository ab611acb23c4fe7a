// Checks of an Envoy bootstrap that neither Envoy's schema nor its protoc-gen-validate rules
// make: references between parts of the config, and what keycard needs from the Envoy in front
// of it. Input is the bootstrap in canonical proto3 JSON (snake_case, defaults left out, every
// typed_config with its @type), as envoy-validate.ts produces it.
//
// reference:
// - listener and cluster names are unique, and no two listeners bind the same address;
// - every cluster a route, a weighted cluster, a mirror policy or ext_authz names exists, and a
//   cluster's load_assignment.cluster_name is its own name;
// - every typed_per_filter_config key names an HTTP filter of that connection manager.
// keycard:
// - ext_authz fails closed (failure_mode_allow false), speaks V3, has a positive timeout, and its
//   gRPC cluster (and any cluster with a gRPC health check) speaks HTTP/2;
// - the router is the last HTTP filter and ext_authz comes before it;
// - paths are normalized (normalize_path, merge_slashes) and %2F / %5C rejected
//   (path_with_escaped_slashes_action: REJECT_REQUEST), as keycard rejects them; the client
//   address is the connection's peer (use_remote_address); header names with underscores are
//   rejected or dropped (x_keycard_subject would reach many frameworks as x-keycard-subject);
// - every route that forwards to a cluster is either authorized by keycard with a service that
//   has a policy (context_extensions.service, gRPC; path_prefix /service/NAME, HTTP), or has
//   ext_authz disabled and removes every x-keycard-* identity header itself; a route keycard
//   authorizes never removes the identity headers keycard set;
// - HTTP mode: the headers keycard believes from an nginx/Traefik front end never come from the
//   client, client copies of x-keycard-* reach keycard (so it can have them removed), and
//   keycard's identity headers reach the service;
// - the admin listener is on loopback or a Unix socket.
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { DECISION_ID_HEADER, IDENTITY_HEADER_PREFIX } from '../../src/protocol/decision-response.js';
import { asArray, asObject, type PathSegment } from './envoy-pgv.js';

export interface RuleProblem {
  readonly code: 'reference' | 'keycard';
  readonly path: readonly PathSegment[];
  readonly message: string;
}

const TYPE = 'type.googleapis.com/';
const HCM = `${TYPE}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const EXT_AUTHZ = `${TYPE}envoy.extensions.filters.http.ext_authz.v3.ExtAuthz`;
const ROUTER = `${TYPE}envoy.extensions.filters.http.router.v3.Router`;
const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Every header keycard sets on an allowed request (src/protocol/decision-response.ts). */
export const IDENTITY_HEADERS = ['subject', 'issuer', 'roles', 'permissions', 'token']
  .map((name) => `${IDENTITY_HEADER_PREFIX}${name}`)
  .concat(DECISION_ID_HEADER);

/** Headers keycard's HTTP check mode believes about the original request (src/protocol/http-check.ts). */
export const PROXY_REQUEST_HEADERS = ['x-original-method', 'x-forwarded-method', 'x-original-uri', 'x-forwarded-uri', 'x-forwarded-host'];

const SERVICE_PREFIX = /^\/service\/([A-Za-z0-9][A-Za-z0-9_.:-]*)$/;

interface ExtAuthzFilter {
  readonly name: string;
  readonly mode: 'grpc' | 'http';
}

interface ClusterEntry {
  readonly cluster: JsonObject;
  readonly path: readonly PathSegment[];
}

export function keycardRuleProblems(config: JsonObject, knownServices: ReadonlySet<string>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const report = (code: RuleProblem['code'], path: readonly PathSegment[], message: string) => problems.push({ code, path, message });
  const known = [...knownServices].sort().join(', ') || 'none';
  const checkService = (service: JsonValue | undefined, path: readonly PathSegment[]) => {
    if (typeof service === 'string' && !knownServices.has(service)) {
      report('keycard', path, `service "${service}" has no keycard policy (known: ${known})`);
    }
  };

  const staticResources = asObject(config['static_resources']) ?? {};
  const clusters = new Map<string, ClusterEntry>();
  asArray(staticResources['clusters']).forEach((value, index) => {
    const cluster = asObject(value) ?? {};
    const path = ['static_resources', 'clusters', index];
    const name = str(cluster['name']);
    if (clusters.has(name)) report('reference', [...path, 'name'], `cluster "${name}" is defined twice`);
    clusters.set(name, { cluster, path });
    const assignmentName = asObject(cluster['load_assignment'])?.['cluster_name'];
    if (assignmentName !== undefined && assignmentName !== name) {
      report('reference', [...path, 'load_assignment', 'cluster_name'], `"${str(assignmentName)}" is not this cluster's name "${name}"`);
    }
    const grpcHealthChecked = asArray(cluster['health_checks']).some((check) => asObject(check)?.['grpc_health_check'] !== undefined);
    if (grpcHealthChecked && !speaksHttp2(cluster)) {
      report('keycard', path, `cluster "${name}" is health-checked over gRPC but not configured for HTTP/2 (typed_extension_protocol_options.${HTTP_PROTOCOL_OPTIONS}.explicit_http_config.http2_protocol_options)`);
    }
  });

  const requireCluster = (name: JsonValue | undefined, path: readonly PathSegment[]): ClusterEntry | undefined => {
    const entry = clusters.get(str(name));
    if (!entry) report('reference', path, `cluster "${str(name)}" is not defined (clusters: ${[...clusters.keys()].join(', ') || 'none'})`);
    return entry;
  };

  const admin = asObject(config['admin']);
  const adminAddress = asObject(admin?.['address']);
  const adminSocket = asObject(adminAddress?.['socket_address']);
  if (adminSocket && !isLoopback(str(adminSocket['address']))) {
    report('keycard', ['admin', 'address', 'socket_address', 'address'], `the admin API must listen on loopback or a Unix socket, not ${str(adminSocket['address'])}`);
  }

  const listenerNames = new Set<string>();
  const boundAddresses = new Set<string>();
  asArray(staticResources['listeners']).forEach((value, index) => {
    const listener = asObject(value) ?? {};
    const path = ['static_resources', 'listeners', index];
    const name = str(listener['name']);
    if (listenerNames.has(name)) report('reference', [...path, 'name'], `listener "${name}" is defined twice`);
    listenerNames.add(name);
    const address = JSON.stringify(listener['address'] ?? null);
    if (boundAddresses.has(address)) report('reference', [...path, 'address'], `another listener already binds ${address}`);
    boundAddresses.add(address);

    const chains: [JsonObject, PathSegment[]][] = asArray(listener['filter_chains']).map((chain, chainIndex) => [asObject(chain) ?? {}, [...path, 'filter_chains', chainIndex]]);
    const defaultChain = asObject(listener['default_filter_chain']);
    if (defaultChain) chains.push([defaultChain, [...path, 'default_filter_chain']]);
    for (const [chain, chainPath] of chains) {
      asArray(chain['filters']).forEach((filter, filterIndex) => {
        const typedConfig = asObject(asObject(filter)?.['typed_config']);
        if (typedConfig?.['@type'] === HCM) {
          checkConnectionManager(typedConfig, [...chainPath, 'filters', filterIndex, 'typed_config']);
        }
      });
    }
  });

  function checkConnectionManager(hcm: JsonObject, path: readonly PathSegment[]): void {
    if (hcm['normalize_path'] !== true) {
      report('keycard', [...path, 'normalize_path'], 'must be true: keycard must authorize the path the service will serve (RFC 3986 normalized)');
    }
    if (hcm['merge_slashes'] !== true) report('keycard', [...path, 'merge_slashes'], 'must be true: //admin and /admin must be one path for keycard and the service');
    if (hcm['path_with_escaped_slashes_action'] !== 'REJECT_REQUEST') {
      report('keycard', [...path, 'path_with_escaped_slashes_action'], `must be REJECT_REQUEST, as keycard rejects %2F and %5C (is ${str(hcm['path_with_escaped_slashes_action'], 'unset')})`);
    }
    if (hcm['use_remote_address'] !== true) {
      report('keycard', [...path, 'use_remote_address'], 'must be true: the client address keycard sees must be the connection\'s peer, not a header the client wrote');
    }
    const underscores = asObject(hcm['common_http_protocol_options'])?.['headers_with_underscores_action'];
    if (underscores !== 'REJECT_REQUEST' && underscores !== 'DROP_HEADER') {
      report('keycard', [...path, 'common_http_protocol_options', 'headers_with_underscores_action'],
        `must be REJECT_REQUEST or DROP_HEADER (is ${str(underscores, 'ALLOW')}): many frameworks read x_keycard_subject as x-keycard-subject`);
    }

    const filters = asArray(hcm['http_filters']).map((value) => asObject(value) ?? {});
    const filterNames = new Set(filters.map((filter) => str(filter['name'])));
    const extAuthz: ExtAuthzFilter[] = [];
    let routerIndex = -1;
    filters.forEach((filter, index) => {
      const typedConfig = asObject(filter['typed_config']);
      const at = [...path, 'http_filters', index];
      if (typedConfig?.['@type'] === ROUTER) routerIndex = index;
      if (typedConfig?.['@type'] === EXT_AUTHZ) {
        if (routerIndex >= 0) report('keycard', at, 'ext_authz must come before the router');
        const mode = checkExtAuthz(typedConfig, [...at, 'typed_config']);
        if (mode) extAuthz.push({ name: str(filter['name']), mode });
      }
    });
    if (routerIndex !== filters.length - 1) report('keycard', [...path, 'http_filters'], 'the router (envoy.filters.http.router) must be the last HTTP filter');

    const routeConfig = asObject(hcm['route_config']);
    if (!routeConfig) return; // routes from RDS: nothing to check here
    const configRemoves = strings(routeConfig['request_headers_to_remove']);
    asArray(routeConfig['virtual_hosts']).forEach((vhostValue, vhostIndex) => {
      const vhost = asObject(vhostValue) ?? {};
      const vhostPath = [...path, 'route_config', 'virtual_hosts', vhostIndex];
      const vhostConfig = perFilterConfig(vhost, vhostPath);
      const vhostRemoves = strings(vhost['request_headers_to_remove']);
      asArray(vhost['routes']).forEach((routeValue, routeIndex) => {
        const route = asObject(routeValue) ?? {};
        const routePath = [...vhostPath, 'routes', routeIndex];
        const routeConfigs = perFilterConfig(route, routePath);
        const action = asObject(route['route']);
        if (!action) return; // direct_response, redirect: nothing is forwarded
        const actionPath = [...routePath, 'route'];
        if (action['cluster'] !== undefined) requireCluster(action['cluster'], [...actionPath, 'cluster']);
        asArray(asObject(action['weighted_clusters'])?.['clusters']).forEach((weighted, i) => {
          requireCluster(asObject(weighted)?.['name'], [...actionPath, 'weighted_clusters', 'clusters', i, 'name']);
        });
        asArray(action['request_mirror_policies']).forEach((mirror, i) => {
          requireCluster(asObject(mirror)?.['cluster'], [...actionPath, 'request_mirror_policies', i, 'cluster']);
        });
        if (action['cluster_header'] !== undefined) {
          report('keycard', [...actionPath, 'cluster_header'], 'a client-chosen cluster cannot be checked; name the cluster');
        }

        const removes = new Set([...configRemoves, ...vhostRemoves, ...strings(route['request_headers_to_remove'])]);
        const enabled = extAuthz.filter((filter) => {
          const specific = routeConfigs.get(filter.name) ?? vhostConfig.get(filter.name);
          return specific?.['disabled'] !== true;
        });
        if (enabled.length === 0) {
          const missing = IDENTITY_HEADERS.filter((header) => !removes.has(header));
          const why = extAuthz.length === 0 ? 'this connection manager has no ext_authz filter' : 'ext_authz is disabled here';
          if (missing.length > 0) {
            report('keycard', routePath, `${why}, so keycard removes no client-sent identity headers: add ${missing.join(', ')} to request_headers_to_remove`);
          }
          return;
        }
        const removed = IDENTITY_HEADERS.filter((header) => removes.has(header));
        if (removed.length > 0) {
          report('keycard', routePath, `request_headers_to_remove drops ${removed.join(', ')}, which keycard sets after checking the caller`);
        }
        for (const filter of enabled) {
          if (filter.mode !== 'grpc') continue;
          const service =
            asObject(asObject(asObject(routeConfigs.get(filter.name))?.['check_settings'])?.['context_extensions'])?.['service'] ??
            asObject(asObject(asObject(vhostConfig.get(filter.name))?.['check_settings'])?.['context_extensions'])?.['service'];
          if (service === undefined) {
            report('keycard', routePath, `no context_extensions.service for ${filter.name} on this route or its virtual host: keycard would pick the policy by Host`);
          }
        }
      });
    });

    /** The route's or virtual host's typed_per_filter_config, by filter name; checks names and services. */
    function perFilterConfig(owner: JsonObject, ownerPath: readonly PathSegment[]): Map<string, JsonObject> {
      const configs = new Map<string, JsonObject>();
      for (const [name, value] of Object.entries(asObject(owner['typed_per_filter_config']) ?? {})) {
        const at = [...ownerPath, 'typed_per_filter_config', name];
        if (!filterNames.has(name)) report('reference', at, `no HTTP filter is named "${name}" (filters: ${[...filterNames].join(', ')})`);
        const perRoute = asObject(value) ?? {};
        configs.set(name, perRoute);
        const extensions = asObject(asObject(perRoute['check_settings'])?.['context_extensions']);
        if (extensions) {
          checkService(extensions['service'], [...at, 'check_settings', 'context_extensions', 'service']);
          const filter = extAuthz.find((f) => f.name === name);
          if (filter?.mode === 'http') report('keycard', at, 'context_extensions reach only a gRPC ext_authz; with http_service the service comes from path_prefix');
        }
      }
      return configs;
    }
  }

  function checkExtAuthz(filter: JsonObject, path: readonly PathSegment[]): ExtAuthzFilter['mode'] | undefined {
    if (filter['failure_mode_allow'] === true) {
      report('keycard', [...path, 'failure_mode_allow'], 'must be false: with keycard unreachable, requests must be denied, not let through');
    }
    const grpc = asObject(filter['grpc_service']);
    const http = asObject(filter['http_service']);
    if (grpc) {
      const grpcPath = [...path, 'grpc_service'];
      const envoyGrpc = asObject(grpc['envoy_grpc']);
      if (!envoyGrpc) {
        report('keycard', grpcPath, 'use envoy_grpc with a cluster defined here, so the cluster can be checked');
      } else {
        const entry = requireCluster(envoyGrpc['cluster_name'], [...grpcPath, 'envoy_grpc', 'cluster_name']);
        if (entry && !speaksHttp2(entry.cluster)) {
          report('keycard', [...entry.path], `cluster "${str(envoyGrpc['cluster_name'])}" carries ext_authz gRPC but is not configured for HTTP/2 (typed_extension_protocol_options.${HTTP_PROTOCOL_OPTIONS}.explicit_http_config.http2_protocol_options)`);
        }
      }
      positiveTimeout(grpc['timeout'], [...grpcPath, 'timeout'], false);
      if (filter['transport_api_version'] !== 'V3') {
        report('keycard', [...path, 'transport_api_version'], `must be V3: keycard serves envoy.service.auth.v3 (is ${str(filter['transport_api_version'], 'AUTO, the default')})`);
      }
      return 'grpc';
    }
    if (http) {
      const httpPath = [...path, 'http_service'];
      const serverUri = asObject(http['server_uri']) ?? {};
      requireCluster(serverUri['cluster'], [...httpPath, 'server_uri', 'cluster']);
      positiveTimeout(serverUri['timeout'], [...httpPath, 'server_uri', 'timeout'], true);
      const prefix = str(http['path_prefix']);
      const service = SERVICE_PREFIX.exec(prefix)?.[1];
      if (service === undefined) {
        report('keycard', [...httpPath, 'path_prefix'], `must be /service/NAME, naming keycard's policy (is ${JSON.stringify(prefix)}); without it keycard picks the policy by Host`);
      } else {
        checkService(service, [...httpPath, 'path_prefix']);
      }
      const allowed = asObject(filter['allowed_headers']);
      const disallowed = asObject(filter['disallowed_headers']);
      const sent = (header: string) => matchesList(allowed, header) && !matchesList(disallowed, header);
      const spoofable = PROXY_REQUEST_HEADERS.filter(sent);
      if (spoofable.length > 0) {
        report('keycard', [...path, 'allowed_headers'], `sends the client's ${spoofable.join(', ')}, which keycard takes as the original request: a client could choose what keycard checks`);
      }
      const unseen = IDENTITY_HEADERS.filter((header) => !sent(header));
      if (unseen.length > 0) {
        report('keycard', [...path, 'allowed_headers'], `must send client copies of ${unseen.join(', ')} (e.g. prefix: ${IDENTITY_HEADER_PREFIX}) so keycard can have them removed`);
      }
      const upstream = asObject(asObject(http['authorization_response'])?.['allowed_upstream_headers']);
      const dropped = IDENTITY_HEADERS.filter((header) => !matchesList(upstream, header));
      if (dropped.length > 0) {
        report('keycard', [...httpPath, 'authorization_response', 'allowed_upstream_headers'], `must pass keycard's ${dropped.join(', ')} to the service`);
      }
      return 'http';
    }
    report('keycard', path, 'ext_authz needs grpc_service or http_service pointing at keycard');
    return undefined;
  }

  function positiveTimeout(value: JsonValue | undefined, path: readonly PathSegment[], required: boolean): void {
    if (value === undefined) {
      if (required) report('keycard', path, 'must be set');
      return;
    }
    if (!(durationSeconds(value) > 0)) report('keycard', path, `must be positive, is ${str(value)}`);
  }

  return problems;
}

function speaksHttp2(cluster: JsonObject): boolean {
  const options = asObject(asObject(cluster['typed_extension_protocol_options'])?.[HTTP_PROTOCOL_OPTIONS]);
  const explicit = asObject(options?.['explicit_http_config']);
  return explicit?.['http2_protocol_options'] !== undefined || cluster['http2_protocol_options'] !== undefined;
}

/** Envoy's StringMatcher (exact, prefix, suffix, contains, safe_regex; ignore_case) over a ListStringMatcher. */
export function matchesList(list: JsonObject | undefined, value: string): boolean {
  return asArray(list?.['patterns']).some((pattern) => matches(asObject(pattern) ?? {}, value));
}

function matches(matcher: JsonObject, value: string): boolean {
  const ignoreCase = matcher['ignore_case'] === true;
  const fold = (text: string) => (ignoreCase ? text.toLowerCase() : text);
  const subject = fold(value);
  const exact = matcher['exact'];
  if (typeof exact === 'string') return subject === fold(exact);
  const prefix = matcher['prefix'];
  if (typeof prefix === 'string') return subject.startsWith(fold(prefix));
  const suffix = matcher['suffix'];
  if (typeof suffix === 'string') return subject.endsWith(fold(suffix));
  const contains = matcher['contains'];
  if (typeof contains === 'string') return subject.includes(fold(contains));
  const regex = asObject(matcher['safe_regex'])?.['regex'];
  if (typeof regex === 'string') return new RegExp(`^(?:${regex})$`, ignoreCase ? 'i' : '').test(value);
  return false;
}

function durationSeconds(value: JsonValue): number {
  return typeof value === 'string' && /^-?\d+(\.\d+)?s$/.test(value) ? Number(value.slice(0, -1)) : Number.NaN;
}

function isLoopback(address: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(address) || address === '::1' || address === 'localhost';
}

function str(value: JsonValue | undefined, otherwise = ''): string {
  if (value === undefined || value === null) return otherwise;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function strings(value: JsonValue | undefined): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
}
