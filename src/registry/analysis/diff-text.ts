// `keycard diff` as text, JSON (`keycard.diff/v1`) and markdown. Every change names the cases
// (`when`), the rule that decided before and after, and whether a loss is acknowledged.
import type { AccessChange } from './access-diff.js';
import { alignRows } from './coverage-text.js';
import type { DiffReport } from './diff-report.js';
import { groupChanges } from './diff-report.js';
import { plural } from './finding-text.js';
import { md, mdTable } from './markdown.js';

export const DIFF_SCHEMA = 'keycard.diff/v1';

function whenText(change: AccessChange): string {
  return change.when.length === 1 && change.when[0] === 'always' ? 'always' : `when ${change.when.join('; or ')}`;
}

function rulesText(change: AccessChange): string {
  return `${change.before.join(', ')} -> ${change.after.join(', ')}`;
}

function note(report: DiffReport, change: AccessChange): string {
  const accepted = report.acceptedBy.get(change);
  if (accepted) return `accepted (${accepted.source}${accepted.reason === undefined ? '' : `: ${accepted.reason}`})`;
  return change.dryRun ? 'dry-run: not enforced' : '';
}

function operationName(change: AccessChange): string {
  const byPath = `${change.method} ${change.path}`;
  return change.operation === byPath ? byPath : `${change.operation} (${byPath})`;
}

function summary(report: DiffReport): string {
  const { gained, lost, accepted, unaccepted } = report.totals;
  // Blocking: lost, not acknowledged, and enforced (a dry-run policy's losses block nothing).
  return `${lost} lost (${accepted} accepted, ${unaccepted} blocking), ${gained} gained`;
}

export function diffText(report: DiffReport): string {
  const lines = [`access diff ${report.from} -> ${report.to} (${plural(report.services.length, 'service')})`];
  for (const [service, operations] of groupChanges(report.changes)) {
    lines.push('', `service ${service}`);
    // Aligned across the whole service, so its columns line up under every operation.
    const groups = [...operations.values()];
    const aligned = alignRows(groups.flat().map((change) => [change.change, change.caller, whenText(change), rulesText(change), note(report, change)]));
    let row = 0;
    for (const changes of groups) {
      lines.push(`  ${operationName(changes[0]!)}`);
      for (const line of aligned.slice(row, row + changes.length)) lines.push(`    ${line}`);
      row += changes.length;
    }
  }
  if (report.changes.length === 0) lines.push('', 'no access changes');
  for (const entry of report.unusedAcceptances) lines.push(`warning: ${entry.source}: ${entry.key} acknowledges no lost access`);
  lines.push('', summary(report));
  return lines.join('\n');
}

export function diffJson(report: DiffReport) {
  return {
    schema: DIFF_SCHEMA,
    from: report.from,
    to: report.to,
    services: [...report.services],
    changes: report.changes.map((change) => {
      const accepted = report.acceptedBy.get(change);
      return {
        change: change.change,
        service: change.service,
        operation: change.operation,
        method: change.method,
        path: change.path,
        caller: change.caller,
        when: [...change.when],
        before: [...change.before],
        after: [...change.after],
        dryRun: change.dryRun,
        accepted: accepted ? { source: accepted.source, reason: accepted.reason ?? null } : null,
      };
    }),
    unusedAcceptances: report.unusedAcceptances.map((entry) => ({ key: entry.key, source: entry.source })),
    summary: { ...report.totals },
  };
}

export function diffMarkdown(report: DiffReport): string {
  const lines = ['## keycard diff', '', `${md(report.from)} → ${md(report.to)}: **${summary(report)}**.`];
  for (const [service, operations] of groupChanges(report.changes)) {
    lines.push('', `### ${md(service)}`, '');
    const rows = [...operations.values()].flatMap((changes) =>
      changes.map((change) => [md(operationName(change)), change.change === 'lost' ? '**lost**' : 'gained', md(change.caller), md(whenText(change)), md(change.before.join(', ')), md(change.after.join(', ')), md(note(report, change))]),
    );
    lines.push(...mdTable(['operation', 'change', 'caller', 'cases', 'before', 'after', 'note'], rows));
  }
  if (report.changes.length === 0) lines.push('', 'No access changes.');
  if (report.unusedAcceptances.length > 0) {
    lines.push('', '### Unused acceptances', '');
    for (const entry of report.unusedAcceptances) lines.push(`- ${md(entry.source)}: ${md(entry.key)} acknowledges no lost access`);
  }
  return lines.join('\n');
}
