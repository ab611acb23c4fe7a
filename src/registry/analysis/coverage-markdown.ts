// `keycard coverage --format markdown`: a table per service (a column per caller class, the full
// verdict in each cell) and the findings as a list, ready to paste into a pull request.
import { callerLabel } from './caller-class.js';
import type { CoverageReport } from './coverage-report.js';
import { findingLocation, plural } from './finding-text.js';
import { md, mdTable } from './markdown.js';
import type { ServiceCoverage } from './service-coverage.js';
import { verdictText } from './verdict-text.js';

function serviceMarkdown(service: ServiceCoverage): string[] {
  const { policy, api } = service;
  const lines = [`### ${md(policy.service)}`, '', `Policy ${md(policy.file)}, API ${md(api.file)}${policy.mode === 'dry-run' ? ', mode dry-run' : ''}.`, ''];
  const rows = service.operations.map((coverage) => {
    const { operation } = coverage;
    const name = `${operation.method} ${md(operation.path)}${operation.operationId === undefined ? '' : ` (${md(operation.operationId)})`}`;
    return [name, ...coverage.verdicts.map((verdict) => md(verdictText(verdict)))];
  });
  lines.push(...mdTable(['operation', ...service.callers.map((caller) => md(callerLabel(caller)))], rows));
  return lines;
}

export function coverageMarkdown(report: CoverageReport): string {
  const operations = report.services.reduce((sum, service) => sum + service.operations.length, 0);
  const lines = ['## keycard coverage', '', `${plural(report.services.length, 'service')}, ${plural(operations, 'operation')}: **${plural(report.errors, 'error')}**, ${plural(report.warnings, 'warning')}.`];
  for (const service of report.services) lines.push('', ...serviceMarkdown(service));
  lines.push('', '### Findings', '');
  if (report.findings.length === 0) lines.push('None.');
  for (const entry of report.findings) {
    lines.push(`- **${entry.severity}** \`${entry.code}\` ${md(findingLocation(entry))}: ${md(entry.message)}`);
  }
  return lines.join('\n');
}
