// deploy/observability: the alerting rules pass `promtool check rules` and their unit tests
// (`promtool test rules`, every alert firing and not firing), the PrometheusRule holds the same
// groups as the plain rules file, the Grafana dashboard is well formed and all its queries are
// PromQL that promtool accepts, and overlays/prod-monitoring renders prod plus the PodMonitor,
// the PrometheusRule and the dashboard ConfigMap, each valid. promtool is Debian's `prometheus`
// package (`make system-deps`). That every metric these read exists: observability-metrics.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { find, KUSTOMIZE_UNAVAILABLE, podTemplate, render, renderOverlay, ROOT, selects, type K8sObject } from '../helpers/k8s.js';
import { validateK8sObject } from '../helpers/k8s-schema.js';
import { MONITORING_KINDS, validateMonitoringObject } from './observability-crds.js';
import { allRules, dashboardQueries, OBSERVABILITY_DIR, readDashboard, readRules, RULES_FILE, type RuleFile } from './observability-files.js';
import { metricNames, selectors } from './observability-promql.js';

const TESTS_DIR = join(OBSERVABILITY_DIR, 'tests');

/** The alerts the issue asks for. */
const ALERTS = ['KeycardDenyRateSpike', 'KeycardStoreUnavailable', 'KeycardJwksFailing', 'KeycardPolicyReloadFailing', 'KeycardLatencyP99High', 'KeycardNotReady'];

/** Grafana's variables as the values they may take, so that promtool can parse the query. */
function withVariablesResolved(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$(\w+)/g, '.*');
}

const PROMTOOL_MISSING = spawnSync('promtool', ['--version']).error ? 'promtool is not installed: run `make system-deps` (Debian package prometheus)' : undefined;

function promtool(args: string[]): { status: number | null; output: string } {
  if (PROMTOOL_MISSING) throw new Error(PROMTOOL_MISSING);
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const temp = mkdtempSync(join(tmpdir(), 'keycard-observability-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('the alerting rules', () => {
  const rules = readRules();
  const testFiles = readdirSync(TESTS_DIR).filter((file) => file.endsWith('.test.yaml'));

  it('pass `promtool check rules`', () => {
    const { status, output } = promtool(['check', 'rules', RULES_FILE]);
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${allRules(rules).length} rules found`);
  });

  it('pass their unit tests (`promtool test rules`)', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const { status, output } = promtool(['test', 'rules', ...testFiles.map((file) => join(TESTS_DIR, file))]);
    expect(status, output).toBe(0);
    expect(output.match(/SUCCESS/g)).toHaveLength(testFiles.length);
  });

  it('are the alerts asked for, each with a severity, a summary, a description and a runbook', () => {
    const alerts = allRules(rules).filter((rule) => rule.alert !== undefined);
    expect(alerts.map((rule) => rule.alert).sort()).toEqual([...ALERTS].sort());
    for (const rule of alerts) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook_url, rule.alert).toBe(`README.md#${rule.alert!.toLowerCase()}`);
    }
  });

  it("have their runbooks in README.md: a heading named after each alert", () => {
    const anchors = new Set(
      readFileSync(join(ROOT, 'README.md'), 'utf8')
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) =>
          line
            .replace(/^#+ /, '')
            .trim()
            .toLowerCase()
            .replace(/[^\w\- ]/g, '')
            .replace(/ /g, '-'),
        ),
    );
    for (const rule of allRules(rules).filter((candidate) => candidate.alert !== undefined)) {
      expect(anchors.has(rule.annotations!.runbook_url!.split('#')[1]!), `README.md has no heading for ${rule.alert}`).toBe(true);
    }
  });

  it('each alert has a unit test in which it fires, and one at which it does not', () => {
    interface UnitTests {
      rule_files: string[];
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    }
    const evaluations = testFiles.flatMap((file) => {
      const tests = parse(readFileSync(join(TESTS_DIR, file), 'utf8')) as UnitTests;
      expect(tests.rule_files, file).toEqual(['../keycard-alerts.rules.yaml']);
      return tests.tests.flatMap((test) => test.alert_rule_test ?? []);
    });
    for (const alert of ALERTS) {
      const mine = evaluations.filter((evaluation) => evaluation.alertname === alert);
      expect(mine.some((evaluation) => evaluation.exp_alerts.length > 0), `${alert} fires in some test`).toBe(true);
      expect(mine.some((evaluation) => evaluation.exp_alerts.length === 0), `${alert} is expected not to fire somewhere`).toBe(true);
    }
  });

  it('fail promtool when broken, so the checks above can fail', () => {
    const broken = join(temp, 'broken.rules.yaml');
    writeFileSync(broken, readFileSync(RULES_FILE, 'utf8').replace('keycard_ready == 0', 'keycard_ready == == 0'));
    expect(promtool(['check', 'rules', broken]).status).not.toBe(0);
    // A unit test that expects KeycardNotReady where it cannot fire.
    const wrong = join(temp, 'wrong.test.yaml');
    writeFileSync(
      wrong,
      stringify({
        rule_files: [RULES_FILE],
        tests: [
          {
            interval: '1m',
            input_series: [{ series: 'keycard_ready{instance="a"}', values: '1x20' }],
            alert_rule_test: [{ eval_time: '10m', alertname: 'KeycardNotReady', exp_alerts: [{ exp_labels: { severity: 'critical', instance: 'a' } }] }],
          },
        ],
      }),
    );
    const { status, output } = promtool(['test', 'rules', wrong]);
    expect(status).not.toBe(0);
    expect(output).toContain('FAILED');
  });

  it('are the same groups in prometheus-rule.yaml (the PrometheusRule)', () => {
    const object = parse(readFileSync(join(OBSERVABILITY_DIR, 'prometheus-rule.yaml'), 'utf8')) as K8sObject & { spec: RuleFile };
    expect(validateMonitoringObject(object)).toEqual([]);
    expect(object.spec, 'prometheus-rule.yaml differs from keycard-alerts.rules.yaml: regenerate it with the command in its header').toEqual(rules);
  });

  it('read the deny ratio only through the rules they record first, in the same group', () => {
    for (const group of rules.groups) {
      const recorded: string[] = [];
      for (const rule of group.rules) {
        for (const name of metricNames(rule.expr).filter((candidate) => candidate.includes(':'))) {
          expect(recorded, `${rule.alert ?? rule.record} reads ${name}`).toContain(name);
        }
        if (rule.record) recorded.push(rule.record);
      }
    }
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = readDashboard();
  const BUILT_IN_PANELS = ['row', 'timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text', 'heatmap', 'barchart', 'piechart'];
  const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

  it('is a current dashboard with a Prometheus data source variable and a service variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toBe('keycard');
    const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.get('service')).toMatchObject({ type: 'query', datasource: DATASOURCE, query: { query: 'label_values(keycard_decisions_total, service)' } });
  });

  it('has unique panel ids, built-in panel types only, every query on ${datasource}, and panels that do not overlap', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      expect(BUILT_IN_PANELS, panel.title).toContain(panel.type);
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, `${panel.title} fits in 24 columns`).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          const other = cells.get(`${row}:${column}`);
          expect(other, `${panel.title} overlaps ${other}`).toBeUndefined();
          cells.set(`${row}:${column}`, panel.title);
        }
      }
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(DATASOURCE);
    }
  });

  it('queries only PromQL that promtool accepts', () => {
    const queries = dashboardQueries(dashboard);
    const file = join(temp, 'dashboard.rules.yaml');
    const rules = queries.map(({ expr }, index) => ({ record: `dashboard:query:${index}`, expr: withVariablesResolved(expr) }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { status, output } = promtool(['check', 'rules', file]);
    expect(status, output).toBe(0);
  });

  it('shows what the issue asks for', () => {
    const queries = dashboardQueries(dashboard).map((query) => query.expr);
    const reads = (name: string, grouping?: string) => queries.some((expr) => metricNames(expr).includes(name) && (grouping === undefined || expr.includes(grouping)));
    expect(reads('keycard_decisions_total', 'by (service, decision)'), 'decisions per second by service and decision').toBe(true);
    expect(reads('keycard_decisions_total', 'by (reason)'), 'deny reasons').toBe(true);
    expect(reads('keycard_phase_duration_seconds_bucket', 'by (le, phase)'), 'latency percentiles per phase').toBe(true);
    expect(reads('keycard_token_cache_hits_total') && reads('keycard_token_cache_misses_total'), 'token cache hit ratio').toBe(true);
    expect(reads('keycard_jwks_fetches_total', 'by (issuer, result)'), 'JWKS fetches and failures').toBe(true);
    expect(reads('keycard_store_duration_seconds_bucket') && reads('keycard_store_operations_total', 'error'), 'store latency and errors').toBe(true);
    expect(reads('keycard_policy_reloads_total', 'by (result)'), 'policy reloads and their result').toBe(true);
    expect(reads('keycard_shadow_disagreements_total') && reads('keycard_dry_run_denies_total'), 'shadow and dry-run disagreement').toBe(true);
    expect(reads('keycard_ready'), 'readiness').toBe(true);
  });
});

describe('reading metric names from PromQL', () => {
  it('finds the metrics, not functions, keywords, label names, durations or Grafana variables', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, phase) (rate(keycard_phase_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))')).toEqual([
      'keycard_phase_duration_seconds_bucket',
    ]);
    expect(metricNames('keycard_ready == 0 or (up == 0 and on (namespace, job, instance) max_over_time(keycard_ready[1h]))')).toEqual(['keycard_ready', 'up']);
    expect(metricNames('a:b:c >= 2 * x_total offset 30m unless y bool > 1e3 and sum without (z) (w)')).toEqual(['a:b:c', 'x_total', 'y', 'w']);
    expect(metricNames('count(keycard_ready{namespace=~"a|b"} == 0) or vector(0)')).toEqual(['keycard_ready']);
  });

  it('gives each selector the label names it matches on', () => {
    expect(selectors('sum(rate(keycard_decisions_total{service=~"$service", decision="deny"}[5m])) / sum(rate(keycard_decisions_total[5m]))')).toEqual([
      { name: 'keycard_decisions_total', labels: ['service', 'decision'] },
      { name: 'keycard_decisions_total', labels: [] },
    ]);
  });
});

describe.skipIf(KUSTOMIZE_UNAVAILABLE)(KUSTOMIZE_UNAVAILABLE ? `overlays/prod-monitoring (skipped: ${KUSTOMIZE_UNAVAILABLE})` : 'overlays/prod-monitoring', () => {
  const objects = () => render('overlays/prod-monitoring');
  const key = (object: K8sObject) => `${object.kind}/${object.metadata.name}`;

  it('is overlays/prod, unchanged, plus the PodMonitor, the PrometheusRule and the dashboard ConfigMap', () => {
    const prod = renderOverlay('prod');
    const monitoring = objects();
    const added = monitoring.filter((object) => !prod.some((candidate) => key(candidate) === key(object)));
    expect(added.map(key).sort()).toEqual(['ConfigMap/keycard-dashboard', 'PodMonitor/keycard', 'PrometheusRule/keycard']);
    for (const object of prod) expect(monitoring.find((candidate) => key(candidate) === key(object)), key(object)).toEqual(object);
  });

  it('validates every object: Kubernetes kinds against the API types, Prometheus Operator kinds against their CRD fields', () => {
    const problems = objects().flatMap((object) => (MONITORING_KINDS.includes(object.kind) ? validateMonitoringObject(object) : validateK8sObject(object)));
    expect(problems).toEqual([]);
  });

  it('ships the dashboard unchanged, labelled for the Grafana sidecar, under a fixed name', () => {
    const configMap = find(objects(), 'ConfigMap', 'keycard-dashboard');
    expect(configMap.metadata.name).toBe('keycard-dashboard');
    expect(configMap.metadata.namespace).toBe('shop');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect((configMap.data as Record<string, string>)['keycard.json']).toBe(readFileSync(join(OBSERVABILITY_DIR, 'keycard-dashboard.json'), 'utf8'));
  });

  it('deploys the rules of keycard-alerts.rules.yaml', () => {
    expect(find(objects(), 'PrometheusRule', 'keycard').spec).toEqual(readRules());
  });

  it("has the PodMonitor scrape keycard's admin port in the orders pods", () => {
    const monitor = find(objects(), 'PodMonitor', 'keycard');
    const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] };
    const pods = objects().filter((object) => object.kind === 'Deployment' && selects(spec.selector.matchLabels, podTemplate(object).metadata.labels));
    expect(pods.map(key)).toEqual(['Deployment/orders']);
    const keycard = podTemplate(pods[0]!).spec.containers.find((c) => c.name === 'keycard')!;
    const admin = keycard.ports?.find((port) => port.name === spec.podMetricsEndpoints[0]!.port);
    expect(admin?.containerPort).toBe(Number(podTemplate(pods[0]!).metadata.annotations?.['prometheus.io/port']));
    expect(spec.podMetricsEndpoints[0]!.path).toBe('/metrics');
  });

  it('the CRD validator reports unknown fields, bad durations and missing required fields', () => {
    const rule = structuredClone(find(objects(), 'PrometheusRule', 'keycard')) as K8sObject & { spec: { groups: Record<string, unknown>[] } };
    const first = (rule.spec.groups[0]!.rules as Record<string, unknown>[])[3]!;
    first.expresion = first.expr;
    delete first.expr;
    (rule.spec.groups[0]!.rules as Record<string, unknown>[])[4]!.for = '10 minutes';
    expect(validateMonitoringObject(rule)).toEqual([
      'PrometheusRule/keycard: spec.groups[0].rules[3].expresion: unknown field',
      'PrometheusRule/keycard: spec.groups[0].rules[3].expr: required field missing',
      'PrometheusRule/keycard: spec.groups[0].rules[4].for: expected a duration such as 30s or 1h30m, got "10 minutes"',
    ]);
  });
});
