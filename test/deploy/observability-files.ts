// deploy/observability's files as the tests read them: the rules file, the dashboard and the
// PromQL of its panels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/k8s.js';

export const OBSERVABILITY_DIR = join(ROOT, 'deploy/observability');
export const RULES_FILE = join(OBSERVABILITY_DIR, 'keycard-alerts.rules.yaml');

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
export interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}

export interface DashboardTarget {
  readonly expr: string;
  readonly refId: string;
  readonly datasource?: { type: string; uid: string };
}
export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: readonly DashboardTarget[];
}
export interface Dashboard {
  readonly schemaVersion: number;
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { list: readonly { name: string; type: string; query: string | { query: string }; datasource?: { type: string; uid: string } }[] };
}

export const readRules = (): RuleFile => parse(readFileSync(RULES_FILE, 'utf8')) as RuleFile;
export const readDashboard = (): Dashboard => JSON.parse(readFileSync(join(OBSERVABILITY_DIR, 'keycard-dashboard.json'), 'utf8')) as Dashboard;
export const allRules = (file: RuleFile): Rule[] => file.groups.flatMap((group) => group.rules);

/** Every PromQL expression of the dashboard's panels (and the metric its variables read values from). */
export function dashboardQueries(dashboard: Dashboard): { where: string; expr: string }[] {
  const panels = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel ${panel.id} "${panel.title}" ${target.refId}`, expr: target.expr })));
  const variables = dashboard.templating.list.flatMap((variable) => {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const metric = variable.type === 'query' ? /^label_values\(([a-zA-Z_:][\w:]*)/.exec(query)?.[1] : undefined;
    return metric ? [{ where: `variable ${variable.name}`, expr: metric }] : [];
  });
  return [...panels, ...variables];
}

