// Structural validation of the Prometheus Operator objects (PrometheusRule, PodMonitor) that
// overlays/prod-monitoring renders. The CRDs' OpenAPI schemas are not available offline, and the
// Kubernetes models (k8s-schema.ts) know only built-in kinds, so the fields below are copied from
// the CRDs of prometheus-operator (monitoring.coreos.com/v1), limited to the ones these manifests
// may reasonably use: a key outside them is reported like a typo, as the API server would do.
// Reported as `Kind/name: path: message`, like validateK8sObject.

type Schema =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'duration'
  | 'int-or-string'
  | { readonly map: Schema }
  | { readonly list: Schema }
  | { readonly fields: Readonly<Record<string, Schema>>; readonly required?: readonly string[] };

/** monitoring.coreos.com/v1 Duration: e.g. 30s, 1h30m (no spaces, no fractions). */
const DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;

const stringMap: Schema = { map: 'string' };

const metadata: Schema = { fields: { name: 'string', namespace: 'string', labels: stringMap, annotations: stringMap }, required: ['name'] };

const labelSelector: Schema = {
  fields: {
    matchLabels: stringMap,
    matchExpressions: { list: { fields: { key: 'string', operator: 'string', values: { list: 'string' } }, required: ['key', 'operator'] } },
  },
};

const rule: Schema = {
  fields: { record: 'string', alert: 'string', expr: 'int-or-string', for: 'duration', keep_firing_for: 'duration', labels: stringMap, annotations: stringMap },
  required: ['expr'],
};

const relabeling: Schema = {
  fields: { sourceLabels: { list: 'string' }, separator: 'string', targetLabel: 'string', regex: 'string', modulus: 'integer', replacement: 'string', action: 'string' },
};

const SPECS: Readonly<Record<string, Schema>> = {
  PrometheusRule: {
    fields: {
      groups: {
        list: {
          fields: { name: 'string', interval: 'duration', query_offset: 'duration', limit: 'integer', partial_response_strategy: 'string', labels: stringMap, rules: { list: rule } },
          required: ['name'],
        },
      },
    },
  },
  PodMonitor: {
    fields: {
      selector: labelSelector,
      namespaceSelector: { fields: { any: 'boolean', matchNames: { list: 'string' } } },
      jobLabel: 'string',
      podTargetLabels: { list: 'string' },
      sampleLimit: 'integer',
      targetLimit: 'integer',
      podMetricsEndpoints: {
        list: {
          fields: {
            port: 'string',
            portNumber: 'integer',
            path: 'string',
            scheme: 'string',
            params: { map: { list: 'string' } },
            interval: 'duration',
            scrapeTimeout: 'duration',
            honorLabels: 'boolean',
            honorTimestamps: 'boolean',
            relabelings: { list: relabeling },
            metricRelabelings: { list: relabeling },
          },
        },
      },
    },
    required: ['selector'],
  },
};

export const MONITORING_KINDS = Object.keys(SPECS);

export function validateMonitoringObject(object: unknown): string[] {
  if (!isPlainObject(object)) return ['(document): not a mapping'];
  const kind = typeof object.kind === 'string' ? object.kind : '(no kind)';
  const name = isPlainObject(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '(no name)';
  const spec = SPECS[kind];
  if (!spec) return [`${kind}/${name}: kind: not a Prometheus Operator kind this validator knows (${MONITORING_KINDS.join(', ')})`];
  const problems: string[] = [];
  if (object.apiVersion !== 'monitoring.coreos.com/v1') problems.push(`apiVersion: expected monitoring.coreos.com/v1, got ${JSON.stringify(object.apiVersion)}`);
  check(object, { fields: { apiVersion: 'string', kind: 'string', metadata, spec }, required: ['metadata', 'spec'] }, '', problems);
  return problems.map((problem) => `${kind}/${name}: ${problem}`);
}

function check(value: unknown, schema: Schema, path: string, problems: string[]): void {
  const at = path || '(root)';
  if (typeof schema === 'string') {
    const ok =
      schema === 'string'
        ? typeof value === 'string'
        : schema === 'integer'
          ? Number.isInteger(value)
          : schema === 'boolean'
            ? typeof value === 'boolean'
            : schema === 'duration'
              ? typeof value === 'string' && DURATION.test(value)
              : typeof value === 'string' || Number.isInteger(value);
    if (!ok) problems.push(`${at}: expected ${schema === 'duration' ? 'a duration such as 30s or 1h30m' : `a value of type ${schema}`}, got ${JSON.stringify(value)}`);
    return;
  }
  if ('map' in schema) {
    if (!isPlainObject(value)) return void problems.push(`${at}: expected a mapping`);
    for (const [key, item] of Object.entries(value)) check(item, schema.map, `${path}.${key}`, problems);
    return;
  }
  if ('list' in schema) {
    if (!Array.isArray(value)) return void problems.push(`${at}: expected a list`);
    value.forEach((item, index) => check(item, schema.list, `${path}[${index}]`, problems));
    return;
  }
  if (!isPlainObject(value)) return void problems.push(`${at}: expected a mapping`);
  for (const [key, item] of Object.entries(value)) {
    const field = schema.fields[key];
    const child = path ? `${path}.${key}` : key;
    if (field === undefined) problems.push(`${child}: unknown field`);
    else check(item, field, child, problems);
  }
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) problems.push(`${path ? `${path}.` : ''}${key}: required field missing`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
