// `keycard subjects set | get | list | rm`: the subject directory (id → properties such as email,
// name, department) that `subject.properties.*` conditions read. `set` replaces the subject's
// record; the audit line names the subject and its property names, never the values.
import type { JsonObject } from '../../access/types.js';
import { subjectIdProblem, subjectPropertiesProblem, type SubjectRecord } from '../../state/subject-records.js';
import { applyChange, type ChangeResult } from './change.js';
import { StateCommandError, type StateContext } from './context.js';

/** Listing reads the directory in pages of this many records. */
const PAGE = 500;

export async function setSubject(context: StateContext, id: string, properties: JsonObject): Promise<ChangeResult> {
  checkId(id);
  const problem = subjectPropertiesProblem(properties);
  if (problem !== undefined) throw new StateCommandError(`subject ${id}: ${problem}`);
  const before = await context.store.subjectProperties(id);
  const changed = before === undefined || JSON.stringify(before) !== JSON.stringify(properties);
  const names = Object.keys(properties).sort();
  return applyChange(context, {
    action: 'subjects.set',
    target: { subject: id, properties: names.join(',') },
    changed,
    message: `${before === undefined ? 'created' : changed ? 'replaced' : 'unchanged:'} subject ${id} (${names.length === 0 ? 'no properties' : names.join(', ')})`,
    write: () => context.store.putSubject(id, properties),
  });
}

export async function removeSubject(context: StateContext, id: string): Promise<ChangeResult> {
  checkId(id);
  const existed = (await context.store.subjectProperties(id)) !== undefined;
  return applyChange(context, {
    action: 'subjects.remove',
    target: { subject: id },
    changed: existed,
    message: existed ? `removed subject ${id}` : `subject ${id} has no record: nothing to remove`,
    write: async () => {
      await context.store.deleteSubject(id);
    },
  });
}

export async function getSubject(context: StateContext, id: string): Promise<SubjectRecord | undefined> {
  checkId(id);
  const properties = await context.store.subjectProperties(id);
  return properties === undefined ? undefined : { id, properties };
}

/** Every record, in id order. */
export async function listSubjects(context: StateContext): Promise<SubjectRecord[]> {
  const out: SubjectRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.store.listSubjects({ limit: PAGE, ...(cursor !== undefined && { cursor }) });
    out.push(...page.subjects);
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}

/** `--property k=v` (repeatable): string values; a later one for the same name wins. */
export function propertiesFromFlags(flags: readonly string[]): JsonObject {
  const properties: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) throw new StateCommandError(`--property "${flag}" is not NAME=VALUE`);
    properties[flag.slice(0, at)] = flag.slice(at + 1);
  }
  return properties;
}

/** The JSON text of `--json FILE`: an object of properties. */
export function propertiesFromJson(text: string, file: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StateCommandError(`--json ${file}: not JSON (${(error as Error).message})`);
  }
  const problem = subjectPropertiesProblem(value);
  if (problem !== undefined) throw new StateCommandError(`--json ${file}: ${problem}`);
  return value as JsonObject;
}

function checkId(id: string): void {
  const problem = subjectIdProblem(id);
  if (problem !== undefined) throw new StateCommandError(`subject "${id}": ${problem}`);
}
