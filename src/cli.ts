#!/usr/bin/env node
// keycard command line: serve | check | test | lint | replay | coverage | diff | token | keygen | roles | revoke | tuples | apikeys | sessions | subjects | help | version.
import { ConfigError } from './errors.js';
import { checkCommand } from './cli/check.js';
import { coverageCommand } from './cli/coverage.js';
import { diffCommand } from './cli/diff.js';
import { keygen } from './cli/keygen.js';
import { lintCommand } from './cli/lint.js';
import { replayCommand } from './cli/replay.js';
import { serve } from './cli/serve.js';
import { revokeCommand, rolesCommand, tuplesCommand } from './cli/state/command.js';
import { apikeysCommand, sessionsCommand } from './cli/state/credential-commands.js';
import { subjectsCommand } from './cli/state/subject-commands.js';
import { testCommand } from './cli/test.js';
import { token } from './cli/token.js';
import { HELP, UsageError } from './cli/usage.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      await serve(args);
      return -1; // keeps running until a signal
    case 'check':
      return checkCommand(args);
    case 'test':
      return testCommand(args);
    case 'lint':
      return lintCommand(args);
    case 'replay':
      return replayCommand(args);
    case 'coverage':
      return coverageCommand(args);
    case 'diff':
      return diffCommand(args);
    case 'token':
      await token(args);
      return 0;
    case 'keygen':
      return keygen(args);
    case 'roles':
      return rolesCommand(args);
    case 'revoke':
      return revokeCommand(args);
    case 'tuples':
      return tuplesCommand(args);
    case 'apikeys':
      return apikeysCommand(args);
    case 'sessions':
      return sessionsCommand(args);
    case 'subjects':
      return subjectsCommand(args);
    case 'version':
    case '--version':
      console.log(process.env.npm_package_version ?? '0.1.0');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exitCode = 1;
    } else if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`keycard: ${(error as Error).message}\n\n${HELP}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 2;
    }
  },
);
