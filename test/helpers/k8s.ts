// Renders deploy/k8s overlays with `kubectl kustomize` (offline) and reads what they contain:
// objects by kind and name, containers and their ports, the files a container sees through its
// ConfigMap and Secret mounts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const K8S_DIR = join(ROOT, 'deploy/k8s');
export const OVERLAYS = ['dev', 'prod', 'shared'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** Why the kustomize tests cannot run here, or undefined when `kubectl kustomize` works. */
export const KUSTOMIZE_UNAVAILABLE: string | undefined = (() => {
  const probe = spawnSync('kubectl', ['kustomize', '--help'], { encoding: 'utf8' });
  if (probe.error) return 'kubectl is not installed: install kubectl 1.27+ (it includes kustomize) to render deploy/k8s';
  if (probe.status !== 0) return `kubectl kustomize does not work here: ${probe.stderr.trim().split('\n')[0]}`;
  return undefined;
})();

export type K8sObject = Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

export interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
}

export interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: Record<string, unknown>;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; volumes?: Volume[]; securityContext?: Record<string, unknown> };
}

const cache = new Map<string, K8sObject[]>();

/** The objects `kubectl kustomize DIR` prints (DIR relative to deploy/k8s, or absolute). */
export function render(dir: string): K8sObject[] {
  const path = dir.startsWith('/') ? dir : join(K8S_DIR, dir);
  let objects = cache.get(path);
  if (!objects) {
    const out = execFileSync('kubectl', ['kustomize', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    objects = parseAllDocuments(out).map((document) => {
      if (document.errors.length > 0) throw new Error(`${dir}: ${document.errors[0]!.message}`);
      return document.toJS() as K8sObject;
    });
    cache.set(path, objects);
  }
  return objects;
}

export function renderOverlay(overlay: Overlay): K8sObject[] {
  return render(`overlays/${overlay}`);
}

/** The one object of that kind whose name is `name` or `name-<hash>` (generated ConfigMaps). */
export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((object) => object.kind === kind && (object.metadata.name === name || generatedFrom(object.metadata.name, name)));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0]!;
}

export function findAll(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

function generatedFrom(actual: string, name: string): boolean {
  return actual.startsWith(`${name}-`) && /^[a-z0-9]{10}$/.test(actual.slice(name.length + 1));
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'];

export function podTemplate(workload: K8sObject): PodTemplate {
  return (workload.spec as { template: PodTemplate }).template;
}

export function container(workload: K8sObject, name: string): Container {
  const found = podTemplate(workload).spec.containers.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`${workload.metadata.name} has no container ${name}`);
  return found;
}

/** The container port with that name or number. */
export function containerPort(target: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return target.ports?.some((candidate) => candidate.containerPort === port) ? port : undefined;
  return target.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

export function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** ConfigMap data, or decoded Secret data, by the object's (generated) name. */
export function filesOf(objects: readonly K8sObject[], kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> | undefined {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  if (!object) return undefined;
  if (kind === 'ConfigMap') return (object.data ?? {}) as Record<string, string>;
  const data = (object.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}

/**
 * Writes below `root` the files that `containerName` sees through its ConfigMap and Secret
 * mounts, as the kubelet lays them out (directory mounts, `items`, `subPath`). Secrets the
 * overlay expects to exist already (created outside kustomize) come from `externalSecrets`.
 * Returns the problems found: a mount of a missing volume, object or key.
 */
export function materializeMounts(
  objects: readonly K8sObject[],
  workload: K8sObject,
  containerName: string,
  root: string,
  externalSecrets: Readonly<Record<string, Record<string, string>>> = {},
): string[] {
  const problems: string[] = [];
  const volumes = new Map((podTemplate(workload).spec.volumes ?? []).map((volume) => [volume.name, volume]));
  for (const mount of container(workload, containerName).volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) {
      problems.push(`${containerName}: volumeMount ${mount.mountPath} names no volume "${mount.name}"`);
      continue;
    }
    const source = volume.configMap
      ? { kind: 'ConfigMap' as const, name: volume.configMap.name, items: volume.configMap.items }
      : volume.secret
        ? { kind: 'Secret' as const, name: volume.secret.secretName, items: volume.secret.items }
        : undefined;
    if (!source) continue;
    const data = filesOf(objects, source.kind, source.name) ?? (source.kind === 'Secret' ? externalSecrets[source.name] : undefined);
    if (!data) {
      problems.push(`${containerName}: volume ${volume.name} needs ${source.kind} ${source.name}, which is neither rendered nor external`);
      continue;
    }
    const files = source.items ? Object.fromEntries(source.items.map((item) => [item.path, data[item.key]])) : data;
    if (mount.subPath !== undefined) {
      const content = files[mount.subPath];
      if (content === undefined) problems.push(`${containerName}: subPath ${mount.subPath} is not a key of ${source.kind} ${source.name}`);
      else writeFile(join(root, mount.mountPath), content);
      continue;
    }
    for (const [file, content] of Object.entries(files)) {
      if (content === undefined) problems.push(`${containerName}: an item of ${source.kind} ${source.name} names a missing key`);
      else writeFile(join(root, mount.mountPath, file), content);
    }
  }
  return problems;
}

function writeFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
