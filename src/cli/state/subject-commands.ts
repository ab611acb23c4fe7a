// `keycard subjects set ID (--property k=v ... | --json FILE) | get ID | list | rm ID`: argument
// parsing over subjects.ts, with the options, output and exit codes of the other state commands
// (exit 0 ok, 2 on errors; `get` exits 1 when the subject has no record; writes refused on a
// memory store and audited).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dashSafeArgs } from '../args.js';
import { UsageError } from '../usage.js';
import { COMMON, expectArgs, run } from './command.js';
import { StateCommandError } from './context.js';
import { changeOutput, type CommandOutput } from './render.js';
import { getSubject, listSubjects, propertiesFromFlags, propertiesFromJson, removeSubject, setSubject } from './subjects.js';
import type { SubjectRecord } from '../../state/subject-records.js';

export async function subjectsCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const options = { ...COMMON, property: { type: 'string', multiple: true }, json: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args: dashSafeArgs(rest, options), options, allowPositionals: true });
  const name = `subjects ${verb ?? ''}`.trim();
  if (verb !== 'set' && (values.property !== undefined || values.json !== undefined)) throw new UsageError('subjects: --property and --json are for subjects set');
  switch (verb) {
    case 'set': {
      expectArgs(name, positionals, 1, 'ID (--property NAME=VALUE ... | --json FILE)');
      if ((values.property === undefined) === (values.json === undefined)) throw new UsageError('subjects set: give --property NAME=VALUE (repeatable) or --json FILE (a JSON object), not both');
      const json = values.json;
      return run(name, values, 'write', async (context) => {
        const properties = json === undefined ? propertiesFromFlags(values.property ?? []) : propertiesFromJson(readJson(json), json);
        return changeOutput(await setSubject(context, positionals[0]!, properties));
      });
    }
    case 'get':
      expectArgs(name, positionals, 1, 'ID');
      return run(name, values, 'read', async (context) => subjectOutput(positionals[0]!, await getSubject(context, positionals[0]!)));
    case 'list':
      expectArgs(name, positionals, 0, '');
      return run(name, values, 'read', async (context) => subjectsOutput(await listSubjects(context)));
    case 'rm':
      expectArgs(name, positionals, 1, 'ID');
      return run(name, values, 'write', async (context) => changeOutput(await removeSubject(context, positionals[0]!)));
    default:
      throw new UsageError(`subjects: ${verb === undefined ? 'give' : `unknown subcommand "${verb}";`} set, get, list or rm`);
  }
}

function readJson(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new StateCommandError(`--json ${file}: ${(error as Error).message}`);
  }
}

/** Exit 1 when the subject has no record (as `tuples check` for a missing relation). */
export function subjectOutput(id: string, record: SubjectRecord | undefined): CommandOutput {
  if (record === undefined) return { code: 1, text: `subject ${id} has no record`, json: { id, found: false } };
  return { code: 0, text: `${id}  ${JSON.stringify(record.properties)}`, json: { id, found: true, properties: record.properties } };
}

export function subjectsOutput(records: readonly SubjectRecord[]): CommandOutput {
  const width = Math.max(0, ...records.map((record) => record.id.length));
  return {
    code: 0,
    text: records.length === 0 ? 'no subjects' : records.map((record) => `${record.id.padEnd(width)}  ${JSON.stringify(record.properties)}`).join('\n'),
    json: { subjects: records.map((record) => ({ id: record.id, properties: record.properties })) },
  };
}
