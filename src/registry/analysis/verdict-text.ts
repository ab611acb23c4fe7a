// Verdicts in words, shared by every output format and by finding messages, e.g.
// `allow if scope orders:write [edit] or if relation order:{id}#owner [own] unless header x-debug present [no-debug]`.
import type { RuleCase } from './rule-case.js';
import type { Verdict } from './verdict.js';

function condition(entry: RuleCase): string {
  return `${entry.requires.join(' and ')} [${entry.rule.id}]`;
}

function unless(verdict: Verdict): string {
  return verdict.denies.length === 0 ? '' : ` unless ${verdict.denies.map(condition).join(' or ')}`;
}

/** The whole verdict: decision, deciding rules and requirements, and dry-run denials. */
export function verdictText(verdict: Verdict): string {
  return `${decisionText(verdict)}${dryRunText(verdict)}`;
}

export function decisionText(verdict: Verdict): string {
  if (verdict.decision === 'deny') {
    // Denied by a rule only when an unconditional one applies; else no allow rule reaches the class.
    const deny = verdict.denies[0];
    return deny && deny.requires.length === 0 ? `deny [${deny.rule.id}]` : 'deny';
  }
  const last = verdict.grants[verdict.grants.length - 1]!;
  if (last.requires.length === 0) return `allow [${last.rule.id}]${unless(verdict)}`;
  return `allow if ${verdict.grants.map(condition).join(' or if ')}${unless(verdict)}`;
}

function dryRunText(verdict: Verdict): string {
  if (verdict.decision === 'deny' || verdict.dryRunDenies.length === 0) return '';
  const parts = verdict.dryRunDenies.map((entry) => (entry.requires.length === 0 ? `[${entry.rule.id}]` : `[${entry.rule.id}] if ${entry.requires.join(' and ')}`));
  return ` (dry-run deny ${parts.join(', ')})`;
}

/** One word per decision, for table cells. */
export function decisionWord(verdict: Verdict): string {
  const word = verdict.decision === 'conditional' ? 'allow if' : verdict.decision;
  return verdict.decision !== 'deny' && verdict.dryRunDenies.length > 0 ? `${word}*` : word;
}
