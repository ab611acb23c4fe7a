// `keycard coverage --format text`: per service an aligned table (one column per caller class),
// then each operation's rules and full verdicts, then the findings and a summary line.
import type { CompiledRule } from '../../policy/types.js';
import { callerLabel } from './caller-class.js';
import type { CoverageReport } from './coverage-report.js';
import { findingLocation, plural } from './finding-text.js';
import type { OperationCoverage } from './operation-coverage.js';
import type { ServiceCoverage } from './service-coverage.js';
import { decisionWord, verdictText } from './verdict-text.js';

export function ruleSummary(rule: CompiledRule): string {
  const flags = [rule.effect, ...(rule.anonymous ? ['anonymous'] : []), ...(rule.dryRun ? ['dry-run'] : [])].join(' ');
  return `${rule.id} (${flags}, line ${rule.location.line})`;
}

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
export function alignRows(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd());
}

function operationCell(coverage: OperationCoverage): string {
  const { operation } = coverage;
  return `${operation.method} ${operation.path}${operation.operationId === undefined ? '' : ` (${operation.operationId})`}`;
}

function serviceText(service: ServiceCoverage): string[] {
  const { policy, api } = service;
  const lines = [`service ${policy.service} (policy ${policy.file}, api ${api.file}, ${plural(service.operations.length, 'operation')}${policy.mode === 'dry-run' ? ', mode dry-run' : ''})`, ''];
  const header = ['operation', ...service.callers.map(callerLabel)];
  const rows = service.operations.map((coverage) => [operationCell(coverage), ...coverage.verdicts.map(decisionWord)]);
  lines.push(...alignRows([header, ...rows]).map((line) => `  ${line}`));
  for (const coverage of service.operations) {
    lines.push('', `  ${operationCell(coverage)}`);
    const details: string[][] = [['rules', coverage.rules.length === 0 ? '(none)' : coverage.rules.map((entry) => ruleSummary(entry.rule)).join(', ')]];
    if (coverage.partial.length > 0) details.push(['partial', `${coverage.partial.map(ruleSummary).join(', ')}: match only some of its paths`]);
    for (const verdict of coverage.verdicts) details.push([callerLabel(verdict.caller), verdictText(verdict)]);
    lines.push(...alignRows(details).map((line) => `    ${line}`));
  }
  return lines;
}

export function coverageText(report: CoverageReport): string {
  const lines: string[] = [];
  for (const service of report.services) lines.push(...serviceText(service), '');
  if (report.findings.length > 0) {
    lines.push('findings');
    const rows = report.findings.map((entry) => [entry.severity, entry.code, findingLocation(entry), entry.message]);
    lines.push(...alignRows(rows).map((line) => `  ${line}`), '');
  }
  const operations = report.services.reduce((sum, service) => sum + service.operations.length, 0);
  lines.push(`${plural(report.services.length, 'service')}, ${plural(operations, 'operation')}: ${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')}`);
  return lines.join('\n');
}
