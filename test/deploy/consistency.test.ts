// The numbers that must agree across the Dockerfile, the manifests, the Envoy configs and
// keycard's settings: image name and tag, listen ports, container ports, probes, Services,
// NetworkPolicies, Prometheus annotations, and the Redis connection of the prod overlay.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { all, execForm, exposedPorts, readDockerfile } from '../helpers/dockerfile.js';
import {
  container,
  containerPort,
  find,
  findAll,
  KUSTOMIZE_UNAVAILABLE,
  OVERLAYS,
  podTemplate,
  renderOverlay,
  ROOT,
  selects,
  type Container,
  type K8sObject,
  type Overlay,
} from '../helpers/k8s.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = `keycard:${VERSION}`;
const dockerfile = readDockerfile();
const runtime = dockerfile.stages.at(-1)!;

const KEYCARD: Record<Overlay, { workload: string; namespace: string }> = {
  dev: { workload: 'orders', namespace: 'shop' },
  prod: { workload: 'orders', namespace: 'shop' },
  shared: { workload: 'keycard', namespace: 'keycard' },
};

interface SocketAddress { address: string; port_value: number }
interface EnvoyConfig {
  admin: { address: { socket_address: SocketAddress } };
  static_resources: {
    listeners: { name: string; address: { socket_address: SocketAddress } }[];
    clusters: { name: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: SocketAddress } } }[] }[] } }[];
  };
}

function listen(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

function ns(overlay: Overlay, namespace: string): K8sObject[] {
  return renderOverlay(overlay).filter((object) => object.metadata.namespace === namespace);
}

function keycardOf(overlay: Overlay): { deployment: K8sObject; keycard: Container; settings: { grpc: number; admin: number; http?: number; grpcHost: string; raw: Record<string, unknown> } } {
  const { workload, namespace } = KEYCARD[overlay];
  const objects = ns(overlay, namespace);
  const deployment = find(objects, 'Deployment', workload);
  const volume = podTemplate(deployment).spec.volumes?.find((candidate) => candidate.name === 'keycard-settings');
  const configMap = find(objects, 'ConfigMap', volume!.configMap!.name);
  const raw = parse((configMap.data as Record<string, string>)['keycard.yaml']!) as { grpc?: { listen: string }; admin?: { listen: string }; http?: { listen: string } };
  // The settings' defaults (README, Configuration reference) when a listener is not written.
  const grpc = listen(raw.grpc?.listen ?? '0.0.0.0:9001');
  return {
    deployment,
    keycard: container(deployment, 'keycard'),
    settings: {
      grpc: grpc.port,
      grpcHost: grpc.host,
      admin: listen(raw.admin?.listen ?? '0.0.0.0:9090').port,
      ...(raw.http && { http: listen(raw.http.listen).port }),
      raw,
    },
  };
}

function envoyConfig(overlay: Overlay, namespace: string, name: string): EnvoyConfig {
  return parse((find(ns(overlay, namespace), 'ConfigMap', name).data as Record<string, string>)['envoy.yaml']!) as EnvoyConfig;
}

function clusterEndpoints(config: EnvoyConfig, name: string): SocketAddress[] {
  const cluster = config.static_resources.clusters.find((candidate) => candidate.name === name);
  if (!cluster) throw new Error(`no Envoy cluster ${name}`);
  return cluster.load_assignment.endpoints.flatMap((group) => group.lb_endpoints.map((entry) => entry.endpoint.address.socket_address));
}

/** The container port a Service port leads to, following `NAME.NAMESPACE.svc.cluster.local:PORT`. */
function serviceTarget(overlay: Overlay, host: string, port: number): { service: K8sObject; containerPort: number | undefined } {
  const [name, namespace] = host.split('.') as [string, string];
  const service = find(ns(overlay, namespace), 'Service', name);
  const spec = service.spec as { selector: Record<string, string>; ports: { port: number; targetPort: number | string }[] };
  const servicePort = spec.ports.find((candidate) => candidate.port === port);
  if (!servicePort) return { service, containerPort: undefined };
  const pods = ns(overlay, namespace)
    .filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind))
    .map(podTemplate)
    .filter((pod) => selects(spec.selector, pod.metadata.labels));
  const ports = pods.flatMap((pod) => pod.spec.containers.map((c) => containerPort(c, servicePort.targetPort)).filter((value) => value !== undefined));
  return { service, containerPort: ports[0] };
}

function ingressPorts(policy: K8sObject): { ports: number[]; from: unknown }[] {
  const spec = policy.spec as { ingress: { ports: { port: number }[]; from?: unknown }[] };
  return spec.ingress.map((rule) => ({ ports: rule.ports.map((port) => port.port), from: rule.from }));
}

describe('the image name and tag', () => {
  it('`make image` builds keycard:<package.json version>', () => {
    const dryRun = execFileSync('make', ['-s', '-n', 'image'], { cwd: ROOT, encoding: 'utf8' });
    expect(dryRun.trim()).toBe(`docker build -t ${IMAGE} .`);
  });

  it('the kind scripts load the same image', () => {
    const script = 'SCRIPT=test; ROOT=.; . scripts/kind/lib.sh; keycard_image';
    expect(execFileSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe(IMAGE);
  });

  it.skipIf(KUSTOMIZE_UNAVAILABLE).each(OVERLAYS)('every keycard container of overlay %s runs it', (overlay) => {
    const keycardContainers = renderOverlay(overlay)
      .filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind))
      .flatMap((workload) => podTemplate(workload).spec.containers)
      .filter((c) => c.name === 'keycard');
    expect(keycardContainers.length).toBeGreaterThan(0);
    for (const c of keycardContainers) expect(c.image).toBe(IMAGE);
  });
});

describe.skipIf(KUSTOMIZE_UNAVAILABLE)(KUSTOMIZE_UNAVAILABLE ? `ports and addresses (skipped: ${KUSTOMIZE_UNAVAILABLE})` : 'ports and addresses', () => {
  it('the Dockerfile exposes the gRPC, HTTP check and admin ports of the shared keycard', () => {
    const { keycard, settings } = keycardOf('shared');
    const listening = [settings.grpc, settings.http, settings.admin];
    expect(exposedPorts(runtime).sort()).toEqual(listening.sort());
    expect(keycard.ports!.map((port) => port.containerPort).sort()).toEqual(listening.sort());
  });

  it('the Dockerfile health check and default command match the settings and the manifests', () => {
    const { keycard, settings } = keycardOf('dev');
    const healthcheck = all(runtime, 'HEALTHCHECK')[0]!.args;
    expect(healthcheck).toContain(`http://127.0.0.1:${settings.admin}/healthz`);
    expect(execForm(all(runtime, 'ENTRYPOINT')[0]!.args)).toEqual(['node', 'dist/cli.js', 'serve']);
    expect(execForm(all(runtime, 'CMD')[0]!.args)).toEqual(keycard.args);
  });

  describe.each(OVERLAYS)('overlay %s: keycard', (overlay) => {
    it('declares exactly the ports its settings listen on, all of them exposed by the image', () => {
      const { keycard, settings } = keycardOf(overlay);
      const listening = [settings.grpc, settings.admin, ...(settings.http === undefined ? [] : [settings.http])];
      expect(keycard.ports!.map((port) => port.containerPort).sort()).toEqual(listening.sort());
      for (const port of listening) expect(exposedPorts(runtime)).toContain(port);
    });

    it('is probed on its admin port: /healthz for liveness and start-up, /readyz for readiness', () => {
      const { keycard, settings } = keycardOf(overlay);
      for (const [probe, path] of [[keycard.livenessProbe, '/healthz'], [keycard.startupProbe, '/healthz'], [keycard.readinessProbe, '/readyz']] as const) {
        expect(probe?.httpGet?.path).toBe(path);
        expect(containerPort(keycard, probe!.httpGet!.port)).toBe(settings.admin);
      }
    });

    it('is scraped by Prometheus on the admin port', () => {
      const { deployment, settings } = keycardOf(overlay);
      expect(podTemplate(deployment).metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(settings.admin),
        'prometheus.io/path': '/metrics',
      });
    });
  });

  describe.each(['dev', 'prod'] as const)('overlay %s: the sidecar pod', (overlay) => {
    const envoy = () => envoyConfig(overlay, 'shop', 'envoy-sidecar');

    it("binds keycard's gRPC port to loopback, where Envoy's keycard cluster points", () => {
      const { settings } = keycardOf(overlay);
      expect(settings.grpcHost).toBe('127.0.0.1');
      expect(clusterEndpoints(envoy(), 'keycard')).toEqual([{ address: '127.0.0.1', port_value: settings.grpc }]);
    });

    it("sends allowed requests to the app's port and keeps Envoy's admin on loopback", () => {
      const orders = find(ns(overlay, 'shop'), 'Deployment', 'orders');
      const [endpoint] = clusterEndpoints(envoy(), 'local_app');
      expect(endpoint).toEqual({ address: '127.0.0.1', port_value: containerPort(container(orders, 'app'), 'app') });
      expect(envoy().admin.address.socket_address.address).toBe('127.0.0.1');
    });

    it("exposes Envoy's listener, and only it, through the Service", () => {
      const orders = find(ns(overlay, 'shop'), 'Deployment', 'orders');
      const envoyContainer = container(orders, 'envoy');
      const listeners = envoy().static_resources.listeners.map((listener) => listener.address.socket_address.port_value);
      expect(envoyContainer.ports!.map((port) => port.containerPort)).toEqual(listeners);
      expect(serviceTarget(overlay, 'orders.shop', 80).containerPort).toBe(listeners[0]);
      expect((find(ns(overlay, 'shop'), 'Service', 'orders').spec as { ports: unknown[] }).ports).toHaveLength(1);
    });

    it('starts Envoy with the mounted config', () => {
      const orders = find(ns(overlay, 'shop'), 'Deployment', 'orders');
      const envoyContainer = container(orders, 'envoy');
      const args = envoyContainer.args!;
      const path = args[args.indexOf('--config-path') + 1]!;
      const mount = envoyContainer.volumeMounts!.find((candidate) => path.startsWith(`${candidate.mountPath}/`) || path === candidate.mountPath);
      const volume = podTemplate(orders).spec.volumes!.find((candidate) => candidate.name === mount?.name);
      expect(volume?.configMap?.name).toMatch(/^envoy-sidecar-/);
    });

    it('lets clients reach Envoy and Prometheus the admin port, and nobody keycard\'s gRPC port', () => {
      const { settings } = keycardOf(overlay);
      const listener = envoy().static_resources.listeners[0]!.address.socket_address.port_value;
      const rules = ingressPorts(find(ns(overlay, 'shop'), 'NetworkPolicy', 'orders'));
      expect(rules.flatMap((rule) => rule.ports).sort()).toEqual([listener, settings.admin].sort());
      expect(rules.find((rule) => rule.ports.includes(settings.admin))?.from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
      ]);
      expect(rules.flatMap((rule) => rule.ports)).not.toContain(settings.grpc);
    });
  });

  describe('overlay shared: the gateway', () => {
    const gateway = () => envoyConfig('shared', 'gateway', 'envoy-gateway');
    const gatewayLabels = () => podTemplate(find(ns('shared', 'gateway'), 'Deployment', 'gateway')).metadata.labels;

    it("reaches keycard's gRPC port through the headless Service keycard", () => {
      const { settings } = keycardOf('shared');
      const [endpoint] = clusterEndpoints(gateway(), 'keycard');
      expect(settings.grpcHost).toBe('0.0.0.0');
      const target = serviceTarget('shared', endpoint!.address, endpoint!.port_value);
      expect((target.service.spec as { clusterIP?: string }).clusterIP).toBe('None');
      expect(target.containerPort).toBe(settings.grpc);
    });

    it('routes to the Services of the apps, which lead to the apps\' ports', () => {
      for (const name of ['orders', 'catalog']) {
        const [endpoint] = clusterEndpoints(gateway(), name);
        const app = container(find(ns('shared', 'shop'), 'Deployment', name), 'app');
        expect(serviceTarget('shared', endpoint!.address, endpoint!.port_value).containerPort, name).toBe(containerPort(app, 'app'));
      }
    });

    it('listens on the ports its container and Service declare, with the TLS files mounted', () => {
      const deployment = find(ns('shared', 'gateway'), 'Deployment', 'gateway');
      const envoyContainer = container(deployment, 'envoy');
      const listeners = gateway().static_resources.listeners.map((listener) => listener.address.socket_address.port_value);
      expect(envoyContainer.ports!.map((port) => port.containerPort).sort()).toEqual(listeners.sort());
      for (const port of (find(ns('shared', 'gateway'), 'Service', 'gateway').spec as { ports: { port: number }[] }).ports) {
        expect(listeners).toContain(serviceTarget('shared', 'gateway.gateway', port.port).containerPort);
      }
      const files = [...JSON.stringify(gateway()).matchAll(/"filename":"([^"]+)"/g)].map((match) => match[1]!);
      expect(files.length).toBeGreaterThan(0);
      const tls = envoyContainer.volumeMounts!.find((mount) => mount.name === 'tls')!;
      for (const file of files) expect(file.startsWith(`${tls.mountPath}/`), file).toBe(true);
      expect(podTemplate(deployment).spec.volumes!.find((volume) => volume.name === 'tls')?.secret?.secretName).toBe('gateway-tls');
      expect(files.map((file) => file.slice(tls.mountPath.length + 1)).sort()).toEqual(['tls.crt', 'tls.key']);
    });

    it('is the only client of keycard (gRPC and HTTP check) and of the apps', () => {
      const { settings } = keycardOf('shared');
      const fromGateway = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateway' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }];
      expect(selects({ 'app.kubernetes.io/name': 'gateway' }, gatewayLabels())).toBe(true);
      expect(find(renderOverlay('shared'), 'Namespace', 'gateway').metadata.name).toBe('gateway');
      const keycardRules = ingressPorts(find(ns('shared', 'keycard'), 'NetworkPolicy', 'keycard'));
      expect(keycardRules.find((rule) => rule.ports.includes(settings.grpc))).toEqual({ ports: [settings.grpc, settings.http], from: fromGateway });
      expect(keycardRules.find((rule) => rule.ports.includes(settings.admin))?.ports).toEqual([settings.admin]);
      for (const app of ['orders', 'catalog']) {
        const port = containerPort(container(find(ns('shared', 'shop'), 'Deployment', app), 'app'), 'app');
        expect(ingressPorts(find(ns('shared', 'shop'), 'NetworkPolicy', app)), app).toEqual([{ ports: [port], from: fromGateway }]);
      }
    });
  });

  describe('overlay prod: Redis', () => {
    it("keycard's store URL leads to the Redis container", () => {
      const { settings } = keycardOf('prod');
      const url = new URL((settings.raw.store as { url: string }).url);
      const redis = container(find(ns('prod', 'shop'), 'StatefulSet', 'redis'), 'redis');
      expect(serviceTarget('prod', `${url.hostname}.shop`, Number(url.port)).containerPort).toBe(containerPort(redis, 'redis'));
    });

    it('keycard and Redis take the password from the same Secret key', () => {
      const { keycard, settings } = keycardOf('prod');
      const passwordEnv = (settings.raw.store as { passwordEnv: string }).passwordEnv;
      const fromKeycard = keycard.env?.find((variable) => variable.name === passwordEnv)?.valueFrom?.secretKeyRef;
      const redis = container(find(ns('prod', 'shop'), 'StatefulSet', 'redis'), 'redis');
      expect(fromKeycard).toEqual({ name: 'redis-auth', key: 'password' });
      expect(redis.env?.find((variable) => variable.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual(fromKeycard);
      expect(redis.args).toContain('$(REDIS_PASSWORD)');
    });

    it('only the pods running keycard may connect to Redis', () => {
      const orders = podTemplate(find(ns('prod', 'shop'), 'Deployment', 'orders'));
      const redis = container(find(ns('prod', 'shop'), 'StatefulSet', 'redis'), 'redis');
      const [rule, ...others] = (find(ns('prod', 'shop'), 'NetworkPolicy', 'redis').spec as { ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] }).ingress;
      expect(others).toEqual([]);
      expect(rule!.ports).toEqual([{ port: containerPort(redis, 'redis'), protocol: 'TCP' }]);
      expect(rule!.from).toHaveLength(1);
      expect(selects(rule!.from[0]!.podSelector.matchLabels, orders.metadata.labels)).toBe(true);
    });
  });

  it('every overlay names its workloads as the kind scripts expect', () => {
    const script = 'SCRIPT=test; . scripts/kind/lib.sh; for o in dev prod shared; do echo "$o $(workloads "$o")"; done';
    const lines = execFileSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    for (const line of lines) {
      const [overlay, ...workloads] = line.split(' ') as [Overlay, ...string[]];
      const rendered = renderOverlay(overlay)
        .filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind))
        .map((object) => `${object.metadata.namespace}/${object.kind.toLowerCase()}/${object.metadata.name}`);
      expect(workloads.sort(), overlay).toEqual(rendered.sort());
    }
    expect(findAll(renderOverlay('dev'), 'Deployment')).toHaveLength(1);
  });
});
