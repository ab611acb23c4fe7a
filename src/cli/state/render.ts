// What the state commands print: one text form for people and one JSON document for scripts.
import type { Revocation, RelationTuple, RoleBinding } from '../../state/store.js';
import { formatTuple } from '../../state/tuple.js';
import type { ChangeResult } from './change.js';
import { revocationTarget } from './revocations.js';
import { tupleTarget, type TupleCheck } from './tuples.js';

export interface CommandOutput {
  /** The exit code. */
  readonly code: number;
  readonly text: string;
  readonly json: unknown;
}

export function changeOutput(result: ChangeResult): CommandOutput {
  const { action, target, store, actor, changed } = result;
  return { code: 0, text: result.message, json: { action, target, store, actor, changed } };
}

export function bindingsOutput(bindings: readonly RoleBinding[]): CommandOutput {
  const rows = bindings.map((binding) => [binding.subject, binding.role, binding.service === undefined ? '(global)' : `service ${binding.service}`]);
  return {
    code: 0,
    text: rows.length === 0 ? 'no role bindings' : table(rows),
    json: { bindings: bindings.map((binding) => ({ subject: binding.subject, role: binding.role, ...(binding.service !== undefined && { service: binding.service }) })) },
  };
}

export function revocationsOutput(revocations: readonly Revocation[]): CommandOutput {
  const rows = revocations.map((revocation) => {
    const target = revocationTarget(revocation);
    return [revocation.kind, revocation.id, `expires ${target.expires_at}`, target.before === undefined ? '' : `issued before ${target.before}`];
  });
  return {
    code: 0,
    text: rows.length === 0 ? 'no revocations in force' : table(rows),
    json: { revocations: revocations.map(revocationTarget) },
  };
}

export function tuplesOutput(tuples: readonly RelationTuple[]): CommandOutput {
  return {
    code: 0,
    text: tuples.length === 0 ? 'no tuples' : tuples.map(formatTuple).join('\n'),
    json: { tuples: tuples.map(tupleTarget) },
  };
}

/** Exit 0 when the subject has the relation, 1 when not (as `keycard check`: allow 0, deny 1). */
export function tupleCheckOutput(check: TupleCheck): CommandOutput {
  const { object, relation, subject } = check;
  const text = check.has
    ? `yes: ${subject} is ${relation} of ${object}\nchain: ${(check.chain ?? []).join(' → ')}`
    : `no: ${subject} is not ${relation} of ${object}`;
  return { code: check.has ? 0 : 1, text, json: { tuple: check.tuple, has: check.has, ...(check.chain && { chain: check.chain }) } };
}

/** Columns padded to their widest cell; trailing spaces trimmed. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd()).join('\n');
}
