// `keycard roles | revoke | tuples`: argument parsing over the state operations in this
// directory. Every command takes --config, --actor and --format; exit 0 ok, 2 on errors
// (`tuples check`: 1 when the subject does not have the relation).
import { parseArgs } from 'node:util';
import { dashSafeArgs } from '../args.js';
import { ConfigError } from '../../errors.js';
import { parseInstant } from '../../pipeline/offline-schema.js';
import { configPath, UsageError } from '../usage.js';
import { resolveActor, StateCommandError, type StateContext } from './context.js';
import { openState } from './open.js';
import { bindingsOutput, changeOutput, revocationsOutput, tupleCheckOutput, tuplesOutput, type CommandOutput } from './render.js';
import { revokeSession, revokeSubject, revokeToken, listRevocations } from './revocations.js';
import { grantRole, listRoles, revokeRole } from './roles.js';
import { addTuple, checkTuple, listTuples, removeTuple } from './tuples.js';

export const COMMON = {
  config: { type: 'string' },
  actor: { type: 'string' },
  format: { type: 'string', default: 'text' },
} as const;

const ROLE_OPTIONS = { ...COMMON, service: { type: 'string' } } as const;
const REVOKE_OPTIONS = { ...COMMON, before: { type: 'string' } } as const;

export interface Common {
  readonly config?: string;
  readonly actor?: string;
  readonly format: string;
}

export type Access = 'read' | 'write';

/** `keycard roles grant SUBJECT ROLE [--service S] | revoke SUBJECT ROLE [--service S] | list [SUBJECT]`. */
export async function rolesCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({ args: dashSafeArgs(rest, ROLE_OPTIONS), options: ROLE_OPTIONS, allowPositionals: true });
  const name = `roles ${verb ?? ''}`.trim();
  switch (verb) {
    case 'grant':
    case 'revoke': {
      const [subject, role] = positionals;
      expectArgs(name, positionals, 2, 'SUBJECT ROLE');
      const binding = { subject: subject!, role: role!, ...(values.service !== undefined && { service: values.service }) };
      return run(name, values, 'write', async (context) => changeOutput(await (verb === 'grant' ? grantRole : revokeRole)(context, binding)));
    }
    case 'list':
      if (values.service !== undefined) throw new UsageError('roles list: --service is for grant and revoke');
      expectArgs(name, positionals, [0, 1], '[SUBJECT]');
      return run(name, values, 'read', async (context) => bindingsOutput(await listRoles(context, positionals[0])));
    default:
      throw new UsageError(`roles: ${verb === undefined ? 'give' : `unknown subcommand "${verb}";`} grant, revoke or list`);
  }
}

/** `keycard revoke token JTI | subject SUB [--before ISO|now] | session SID | list`. */
export async function revokeCommand(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  const { values, positionals } = parseArgs({ args: dashSafeArgs(rest, REVOKE_OPTIONS), options: REVOKE_OPTIONS, allowPositionals: true });
  const name = `revoke ${kind ?? ''}`.trim();
  if (values.before !== undefined && kind !== 'subject') throw new UsageError('revoke: --before is for revoke subject');
  switch (kind) {
    case 'token':
      expectArgs(name, positionals, 1, 'JTI');
      return run(name, values, 'write', async (context) => changeOutput(await revokeToken(context, positionals[0]!)));
    case 'session':
      expectArgs(name, positionals, 1, 'SID');
      return run(name, values, 'write', async (context) => changeOutput(await revokeSession(context, positionals[0]!)));
    case 'subject': {
      expectArgs(name, positionals, 1, 'SUBJECT');
      const before = parseBefore(values.before);
      return run(name, values, 'write', async (context) => changeOutput(await revokeSubject(context, positionals[0]!, before)));
    }
    case 'list':
      expectArgs(name, positionals, 0, '');
      return run(name, values, 'read', async (context) => revocationsOutput(await listRevocations(context)));
    default:
      throw new UsageError(`revoke: ${kind === undefined ? 'give' : `unknown kind "${kind}";`} token, subject, session or list`);
  }
}

/** `keycard tuples add TUPLE | remove TUPLE | list [--object O] [--relation R] [--subject S] | check TUPLE`. */
export async function tuplesCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const options = { ...COMMON, object: { type: 'string' }, relation: { type: 'string' }, subject: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args: dashSafeArgs(rest, options), options, allowPositionals: true });
  const name = `tuples ${verb ?? ''}`.trim();
  const filter = {
    ...(values.object !== undefined && { object: values.object }),
    ...(values.relation !== undefined && { relation: values.relation }),
    ...(values.subject !== undefined && { subject: values.subject }),
  };
  if (verb !== 'list' && Object.keys(filter).length > 0) throw new UsageError('tuples: --object, --relation and --subject are for tuples list');
  switch (verb) {
    case 'add':
    case 'remove':
      expectArgs(name, positionals, 1, 'TUPLE');
      return run(name, values, 'write', async (context) => changeOutput(await (verb === 'add' ? addTuple : removeTuple)(context, positionals[0]!)));
    case 'list':
      expectArgs(name, positionals, 0, '[--object O] [--relation R] [--subject S]');
      return run(name, values, 'read', async (context) => tuplesOutput(await listTuples(context, filter)));
    case 'check':
      expectArgs(name, positionals, 1, 'TUPLE');
      return run(name, values, 'read', async (context) => tupleCheckOutput(await checkTuple(context, positionals[0]!)));
    default:
      throw new UsageError(`tuples: ${verb === undefined ? 'give' : `unknown subcommand "${verb}";`} add, remove, list or check`);
  }
}

/**
 * Opens the store, runs `body`, prints its output and closes everything (the audit log is written
 * out before this resolves). Errors other than usage errors are printed on one line: exit 2.
 */
export async function run(name: string, common: Common, access: Access, body: (context: StateContext) => Promise<CommandOutput>): Promise<number> {
  const { format } = common;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format: "${format}" is not text or json`);
  try {
    const opened = await openState(configPath(common.config), { write: access === 'write', actor: resolveActor(common.actor) });
    let output: CommandOutput;
    try {
      output = await body(opened.context);
    } finally {
      await opened.close();
    }
    console.log(format === 'json' ? JSON.stringify(output.json, null, 2) : output.text);
    return output.code;
  } catch (error) {
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof StateCommandError) console.error(`keycard ${name}: ${error.message}`);
    else console.error(`keycard ${name}: ${(error as Error)?.message ?? String(error)}`);
    return 2;
  }
}

export function expectArgs(name: string, positionals: readonly string[], count: number | readonly [number, number], shape: string): void {
  const [min, max] = typeof count === 'number' ? [count, count] : count;
  if (positionals.length < min || positionals.length > max) throw new UsageError(`${name} ${shape}`.trim() + `: got ${positionals.length === 0 ? 'no arguments' : positionals.map((arg) => JSON.stringify(arg)).join(' ')}`);
}

/** `--before`: an ISO 8601 instant, or `now` (the default): milliseconds, undefined for now. */
function parseBefore(text: string | undefined): number | undefined {
  if (text === undefined || text === 'now') return undefined;
  const instant = parseInstant(text);
  if (instant === undefined) throw new UsageError(`--before: "${text}" is not "now" or an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z`);
  return instant;
}
