// `keycard replay --audit FILE --policies DIR`: decides every recorded decision again under a
// candidate policy set and reports the decisions that change. Exit 1 when an allowed request
// would be denied (a policy release would cut someone off), 0 otherwise, 2 on errors.
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Keycard } from '../app.js';
import { loadSettings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { trustedProxyList } from '../pipeline/client-address.js';
import { jsonReport, textReport } from '../replay/format.js';
import { replayLines, type ReplayDeps } from '../replay/replay.js';
import { OFFLINE_KEYCARD } from './offline-keycard.js';
import { configPath, UsageError } from './usage.js';

export async function replayCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      audit: { type: 'string' },
      policies: { type: 'string' },
      config: { type: 'string' },
      format: { type: 'string', default: 'text' },
      'rule-changes': { type: 'boolean', default: false },
    },
  });
  if (!values.audit) throw new UsageError('replay needs --audit FILE (a keycard audit log; "-" reads stdin)');
  if (!values.policies) throw new UsageError('replay needs --policies DIR (the candidate policy directory)');
  const format = values.format;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format: "${format}" is not text or json`);

  let keycard: Keycard | undefined;
  try {
    const settings = loadSettings(configPath(values.config));
    // The settings' issuers, step-up and relation schema, with the candidate directory as policies.
    keycard = new Keycard(
      { ...settings, audit: { output: 'off' }, policies: { dir: resolve(values.policies), watch: false } },
      createLogger('silent'),
      OFFLINE_KEYCARD,
    );
    if (!(await keycard.policies.reload())) throw keycard.policies.lastError!;
    const policies = keycard.policies.current!;
    const deps: ReplayDeps = { policies, store: keycard.store, relations: keycard.relations, trustedProxies: trustedProxyList(settings.network.trustedProxies) };
    const input = await openAudit(values.audit);
    let report;
    try {
      report = await replayLines(createInterface({ input, crlfDelay: Infinity }), deps);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === undefined) throw error;
      throw new AuditUnreadable(`reading the audit file ${values.audit} failed: ${(error as Error).message}`);
    }
    const context = { audit: values.audit, policies: values.policies, version: policies.version, ruleChanges: values['rule-changes'] };
    console.log(format === 'json' ? JSON.stringify(jsonReport(report, context), null, 2) : textReport(report, context).join('\n'));
    return report.totals.allow_to_deny > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof AuditUnreadable) {
      console.error(`keycard replay: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    await keycard?.stop();
  }
}

class AuditUnreadable extends Error {}

/** The audit file as a stream (never read whole), or stdin for "-". */
async function openAudit(file: string): Promise<Readable> {
  if (file === '-') return process.stdin;
  try {
    const handle = await open(file, 'r');
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new Error('not a regular file');
    }
    // A read error part-way rejects the line iterator, so it never passes for the end of the file.
    return handle.createReadStream({ encoding: 'utf8' });
  } catch (error) {
    throw new AuditUnreadable(`cannot read the audit file ${file}: ${(error as Error).message}`);
  }
}
