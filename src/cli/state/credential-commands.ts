// `keycard apikeys create | revoke | list` and `keycard sessions create | revoke | list`: argument
// parsing over apikeys.ts and sessions.ts, with the options, output and exit codes of the other
// state commands (exit 0 ok, 2 on errors; writes refused on a memory store and audited).
import { parseArgs } from 'node:util';
import { dashSafeArgs } from '../args.js';
import { parseDuration } from '../../config/duration.js';
import { UsageError } from '../usage.js';
import { COMMON, expectArgs, run } from './command.js';
import { changeOutput } from './render.js';
import { createApiKey, listApiKeys, revokeApiKey } from './apikeys.js';
import { apiKeysOutput, createdApiKeyOutput, createdSessionOutput, sessionsOutput } from './credential-render.js';
import { createSession, endSession, listSessions, sessionSettings } from './sessions.js';

/** `keycard apikeys create --subject S [--scope X]... [--expires 30d] [--name N] | revoke ID | list [--subject S]`. */
export async function apikeysCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const options = { ...COMMON, subject: { type: 'string' }, scope: { type: 'string', multiple: true }, expires: { type: 'string' }, name: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args: dashSafeArgs(rest, options), options, allowPositionals: true });
  const name = `apikeys ${verb ?? ''}`.trim();
  const createOnly = ['scope', 'expires', 'name'] as const;
  if (verb !== 'create' && createOnly.some((option) => values[option] !== undefined)) throw new UsageError('apikeys: --scope, --expires and --name are for apikeys create');
  switch (verb) {
    case 'create': {
      expectArgs(name, positionals, 0, '--subject S [--scope X]... [--expires 30d] [--name N]');
      if (values.subject === undefined) throw new UsageError('apikeys create needs --subject S (who the key acts as)');
      const expiresInMs = values.expires === undefined ? undefined : parseDuration(values.expires);
      if (values.expires !== undefined && expiresInMs === undefined) throw new UsageError(`--expires: "${values.expires}" is not a duration (e.g. 90d, 12h, 30m)`);
      const request = {
        subject: values.subject,
        scopes: values.scope ?? [],
        ...(values.name !== undefined && { name: values.name }),
        ...(expiresInMs !== undefined && { expiresInMs }),
      };
      return run(name, values, 'write', async (context) => createdApiKeyOutput(await createApiKey(context, request)));
    }
    case 'revoke':
      if (values.subject !== undefined) throw new UsageError('apikeys revoke: give the key id, not --subject');
      expectArgs(name, positionals, 1, 'ID');
      return run(name, values, 'write', async (context) => changeOutput(await revokeApiKey(context, positionals[0]!)));
    case 'list':
      expectArgs(name, positionals, 0, '[--subject S]');
      return run(name, values, 'read', async (context) => apiKeysOutput(await listApiKeys(context, values.subject), context.now()));
    default:
      throw new UsageError(`apikeys: ${verb === undefined ? 'give' : `unknown subcommand "${verb}";`} create, revoke or list`);
  }
}

/** `keycard sessions create --subject S [--acr A] [--amr pwd,otp] | revoke ID | list [--subject S]`. */
export async function sessionsCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const options = { ...COMMON, subject: { type: 'string' }, acr: { type: 'string' }, amr: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args: dashSafeArgs(rest, options), options, allowPositionals: true });
  const name = `sessions ${verb ?? ''}`.trim();
  if (verb !== 'create' && (values.acr !== undefined || values.amr !== undefined)) throw new UsageError('sessions: --acr and --amr are for sessions create');
  switch (verb) {
    case 'create': {
      expectArgs(name, positionals, 0, '--subject S [--acr A] [--amr pwd,otp]');
      if (values.subject === undefined) throw new UsageError('sessions create needs --subject S (who the session acts as)');
      const request = {
        subject: values.subject,
        ...(values.acr !== undefined && { acr: values.acr }),
        ...(values.amr !== undefined && { amr: values.amr.split(',').map((method) => method.trim()) }),
      };
      return run(name, values, 'write', async (context) => createdSessionOutput(await createSession(context, request)));
    }
    case 'revoke':
      if (values.subject !== undefined) throw new UsageError('sessions revoke: give the session id, not --subject');
      expectArgs(name, positionals, 1, 'ID');
      return run(name, values, 'write', async (context) => changeOutput(await endSession(context, positionals[0]!)));
    case 'list':
      expectArgs(name, positionals, 0, '[--subject S]');
      return run(name, values, 'read', async (context) => sessionsOutput(await listSessions(context, values.subject), sessionSettings(context), context.now()));
    default:
      throw new UsageError(`sessions: ${verb === undefined ? 'give' : `unknown subcommand "${verb}";`} create, revoke or list`);
  }
}
