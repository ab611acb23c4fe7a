// The `keycard replay` report as text (for people and CI logs) and as JSON (for tools).
import { SKIP_REASONS, type ChangeDirection, type ChangeGroup, type Outcome, type ReplayReport } from './replay.js';

export interface ReportContext {
  readonly audit: string;
  readonly policies: string;
  readonly version: string;
  /** List the groups of rule_change too (they are always counted). */
  readonly ruleChanges: boolean;
}

const TITLES: Record<ChangeDirection, string> = {
  allow_to_deny: 'allow → deny',
  deny_to_allow: 'deny → allow',
  rule_change: 'same answer, another rule or reason',
};

function listed(report: ReplayReport, context: ReportContext): readonly ChangeGroup[] {
  return context.ruleChanges ? report.changes : report.changes.filter((group) => group.direction !== 'rule_change');
}

/** `read (allow)`, `no rule (deny: no_matching_rule)`, `legacy-off (deny: explicit_deny)`. */
export function describeOutcome(outcome: Outcome): string {
  const reason = outcome.reason === 'allowed' ? '' : `: ${outcome.reason}`;
  return `${outcome.rule ?? 'no rule'} (${outcome.decision}${reason})`;
}

export function textReport(report: ReplayReport, context: ReportContext): string[] {
  const { totals } = report;
  const out = [
    `replay of ${context.audit} against ${context.policies} (version ${context.version})`,
    `${totals.decisions} decisions: ${totals.replayed} replayed, ${totals.unchanged} unchanged, ` +
      `${totals.allow_to_deny} allow → deny, ${totals.deny_to_allow} deny → allow, ${totals.rule_change} rule/reason changes, ${totals.skipped} skipped`,
  ];
  const groups = listed(report, context);
  for (const direction of Object.keys(TITLES) as ChangeDirection[]) {
    const inDirection = groups.filter((group) => group.direction === direction);
    if (inDirection.length === 0) continue;
    out.push('', `${TITLES[direction]}: ${totals[direction]}`);
    for (const group of inDirection) {
      const moved = group.after.service !== group.service ? ` → ${group.after.service ?? 'no service'}` : '';
      out.push(`  ${group.service}${moved}: ${describeOutcome(group.before)} → ${describeOutcome(group.after)}: ${group.count}`);
      for (const example of group.examples) {
        out.push(`      line ${example.line}: ${example.subject ?? '(anonymous)'} ${example.method} ${example.path} at ${example.time}`);
      }
    }
  }
  if (report.ungrouped > 0) out.push('', `${report.ungrouped} further changed decisions are counted but not grouped (group limit reached)`);
  if (report.skipped.length > 0) {
    out.push('', `skipped: ${totals.skipped}`);
    for (const group of report.skipped) {
      const examples = group.examples.map((example) => `line ${example.line}: ${example.detail}`).join('; ');
      out.push(`  ${group.reason}: ${group.count} (${SKIP_REASONS[group.reason]}; ${examples})`);
    }
  }
  out.push('', totals.allow_to_deny > 0 ? `FAIL: ${totals.allow_to_deny} allowed requests would be denied` : 'ok: no allowed request would be denied');
  return out;
}

export function jsonReport(report: ReplayReport, context: ReportContext): object {
  return {
    audit: context.audit,
    policies: context.policies,
    version: context.version,
    totals: report.totals,
    changes: listed(report, context).map((group) => ({
      direction: group.direction,
      service: group.service,
      before: group.before,
      after: group.after,
      count: group.count,
      examples: group.examples,
    })),
    ungrouped: report.ungrouped,
    skipped: report.skipped.map((group) => ({ reason: group.reason, count: group.count, examples: group.examples })),
  };
}
