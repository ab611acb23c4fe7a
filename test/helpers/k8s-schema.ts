// Strict structural validation of Kubernetes objects, offline. `kubectl kustomize` passes any key
// through, and the API server's own check needs a cluster, so a typo such as `replicaz` would
// otherwise surface only at `kubectl apply`. The field lists come from the model classes of
// @kubernetes/client-node (generated from the Kubernetes OpenAPI spec): every key must be a field
// of its type, every value must have the field's type, and fields the spec requires must be there.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// The package's top-level entry needs Node 22 (undici); the generated models load on Node 20.
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';

interface Attribute {
  readonly baseName: string;
  readonly type: string;
  readonly format: string;
}

interface ModelClass {
  getAttributeTypeMap(): Attribute[];
}

const MODELS_DIR = dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node/dist/gen/models/all.js'));
const registry = models as unknown as Record<string, ModelClass | undefined>;

/**
 * The API group of each kind these manifests may use, so that `apiVersion` is checked too
 * (`apiVersion: v1` with `kind: Deployment` must fail). A kind not listed is reported, so a new
 * kind gets added here consciously.
 */
const KIND_GROUPS: Readonly<Record<string, string>> = {
  Namespace: '',
  Service: '',
  ServiceAccount: '',
  ConfigMap: '',
  Secret: '',
  Pod: '',
  PersistentVolumeClaim: '',
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  PodDisruptionBudget: 'policy',
  NetworkPolicy: 'networking.k8s.io',
  Ingress: 'networking.k8s.io',
  HorizontalPodAutoscaler: 'autoscaling',
  Job: 'batch',
  CronJob: 'batch',
  Role: 'rbac.authorization.k8s.io',
  RoleBinding: 'rbac.authorization.k8s.io',
};

/** A problem, as `Kind/name: path: message`. */
export function validateK8sObject(object: unknown): string[] {
  if (!isPlainObject(object)) return ['(document): not a mapping'];
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  const label = `${kind || '(no kind)'}/${typeof metadata.name === 'string' ? metadata.name : '(no name)'}`;
  const model = modelFor(apiVersion, kind);
  if (typeof model === 'string') return [`${label}: ${model}`];
  const problems: string[] = [];
  checkValue(object, model, '', problems);
  return problems.map((problem) => `${label}: ${problem}`);
}

function modelFor(apiVersion: string, kind: string): string | { name: string; model: ModelClass } {
  if (!kind) return 'kind: missing';
  if (!(kind in KIND_GROUPS)) return `kind: "${kind}" is not known to the validator (add it to KIND_GROUPS)`;
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const expected = KIND_GROUPS[kind];
  if (group !== expected || !/^v\d+((alpha|beta)\d+)?$/.test(version)) {
    return `apiVersion: "${apiVersion}" does not serve ${kind} (its group is ${expected ? `"${expected}"` : 'the core group'})`;
  }
  const name = `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
  const model = registry[name];
  if (!model || typeof model.getAttributeTypeMap !== 'function') return `apiVersion: ${apiVersion} ${kind} is not a known API version`;
  return { name, model };
}

function checkValue(value: unknown, type: string | { name: string; model: ModelClass }, path: string, problems: string[]): void {
  if (typeof type !== 'string') {
    checkObject(value, type.name, type.model, path, problems);
    return;
  }
  const at = path || '(root)';
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void problems.push(`${at}: expected a list, got ${describe(value)}`);
    value.forEach((item, index) => checkValue(item, array[1]!, `${path}[${index}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isPlainObject(value)) return void problems.push(`${at}: expected a mapping, got ${describe(value)}`);
    for (const [key, item] of Object.entries(value)) checkValue(item, map[1]!, `${path}.${key}`, problems);
    return;
  }
  switch (type) {
    case 'any':
      return;
    case 'string':
    case 'Date':
      if (typeof value !== 'string') problems.push(`${at}: expected a string, got ${describe(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at}: expected true or false, got ${describe(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isInteger(value)) problems.push(`${at}: expected an integer, got ${describe(value)}`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
        problems.push(`${at}: expected an integer or a string, got ${describe(value)}`);
      }
      return;
  }
  const model = registry[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function') {
    problems.push(`${at}: the validator does not know type ${type}`);
    return;
  }
  checkObject(value, type, model, path, problems);
}

function checkObject(value: unknown, name: string, model: ModelClass, path: string, problems: string[]): void {
  const at = path || '(root)';
  if (!isPlainObject(value)) return void problems.push(`${at}: expected a mapping (${name}), got ${describe(value)}`);
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.get(key);
    const child = path ? `${path}.${key}` : key;
    if (!attribute) {
      const hint = closest(key, [...attributes.keys()]);
      problems.push(`${child}: unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`);
      continue;
    }
    // A null in YAML means "unset": kustomize leaves `creationTimestamp: null` in, kubectl accepts it.
    if (item === null) continue;
    checkValue(item, attribute.type, child, problems);
  }
  for (const field of requiredFields(name)) {
    if (value[field] === undefined || value[field] === null) problems.push(`${path ? `${path}.` : ''}${field}: required field missing`);
  }
}

const requiredCache = new Map<string, readonly string[]>();

/** Fields the spec requires: the declaration file marks the others optional (`'name'?:`). */
function requiredFields(name: string): readonly string[] {
  let fields = requiredCache.get(name);
  if (!fields) {
    const declaration = readFileSync(join(MODELS_DIR, `${name}.d.ts`), 'utf8');
    fields = [...declaration.matchAll(/^ {4}'([^']+)':/gm)].map((match) => match[1]!);
    requiredCache.set(name, fields);
  }
  return fields;
}

function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
