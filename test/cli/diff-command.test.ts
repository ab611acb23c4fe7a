// `keycard diff` on two fixture policy sets with known differences (test/fixtures/diff): the exact
// gained and lost access in every format, and an exit status that follows the acknowledgements.
// KEYCARD_UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffCommand } from '../../src/cli/diff.js';
import { UsageError } from '../../src/cli/usage.js';
import { Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

const DIR = 'test/fixtures/diff';
const CONFIG = join(DIR, 'keycard.yaml');
const OLD = join(DIR, 'old');
const NEW = join(DIR, 'new');
const ACCEPT = join(DIR, 'accept.yaml');
const UPDATE = process.env.KEYCARD_UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): string {
  if (UPDATE) writeFileSync(join(DIR, file), `${actual}\n`);
  return readFileSync(join(DIR, file), 'utf8').replace(/\n$/, '');
}

const diff = (...extra: string[]) => capture(() => diffCommand(['--config', CONFIG, '--from', OLD, '--to', NEW, ...extra]));

interface JsonChange {
  change: string;
  service: string;
  operation: string;
  caller: string;
  when: string[];
  before: string[];
  after: string[];
  accepted: { source: string; reason: string | null } | null;
}

describe('keycard diff', () => {
  it('reports exactly the expected gained and lost access, naming the rule on each side', async () => {
    const out = await diff('--format', 'json');
    const report = JSON.parse(out.stdout) as { changes: JsonChange[]; summary: Record<string, number> };
    expect(report.changes.map(({ change, service, operation, caller, when, before, after }) => `${change} ${service} ${operation} ${caller} [${when.join(' | ')}] ${before.join(',')} -> ${after.join(',')}`)).toEqual([
      'gained billing listInvoices role:auditor [always] (no policy) -> auditors',
      'gained orders getOrder authenticated [relation order:{id}#owner] (no rule) -> read-own',
      'lost orders getOrder role:customer [not relation order:{id}#owner] read -> (no rule)',
      'gained orders getOrder role:finance [relation order:{id}#owner] (no rule) -> read-own',
      'lost orders cancelOrder role:customer [always] cancel -> (no rule)',
      'lost orders refundOrder role:finance [not multi-factor authentication] refunds -> (no rule)',
      'gained orders getOrderStatus anonymous [always] (no rule) -> status',
      'gained orders getOrderStatus authenticated [always] (no rule) -> status',
      'gained orders getOrderStatus role:finance [always] (no rule) -> status',
    ]);
    expect(report.summary).toEqual({ gained: 6, lost: 3, accepted: 0, unaccepted: 3 });
    expect(out.code).toBe(1);
  });

  for (const [format, file] of [
    ['text', 'expected.txt'],
    ['json', 'expected.json'],
    ['markdown', 'expected.md'],
  ] as const) {
    it(`golden ${format} report`, async () => {
      const out = await diff('--format', format);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(1);
      expect(out.stdout).toBe(golden(file, out.stdout));
    });
  }

  it('exits 0 once every loss is acknowledged by the accept file, and warns about an entry that acknowledges nothing', async () => {
    const out = await diff('--accept', ACCEPT);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(golden('expected-accepted.txt', out.stdout));
    expect(out.stdout).toContain(`warning: ${ACCEPT}:14: orders:createOrder:role:customer acknowledges no lost access`);
  });

  it('exits 1 while one loss is left unacknowledged, and --accept-loss can acknowledge it', async () => {
    const partial = new Workspace();
    try {
      const file = partial.write('accept.yaml', '- { service: orders, operation: getOrder, caller: "role:customer" }\n- { service: orders, operation: cancelOrder, caller: "role:customer" }\n');
      const some = await diff('--accept', file, '--format', 'json');
      expect(some.code).toBe(1);
      const report = JSON.parse(some.stdout) as { changes: JsonChange[]; summary: Record<string, number> };
      expect(report.changes.filter((change) => change.change === 'lost' && change.accepted === null).map((change) => `${change.operation} ${change.caller}`)).toEqual(['refundOrder role:finance']);
      expect(report.summary).toMatchObject({ lost: 3, accepted: 2, unaccepted: 1 });
      const all = await diff('--accept', file, '--accept-loss', 'orders:refundOrder:role:finance');
      expect(all.code).toBe(0);
    } finally {
      partial.remove();
    }
  });

  it('comparing a policy set with itself finds nothing', async () => {
    const out = await capture(() => diffCommand(['--config', CONFIG, '--from', NEW, '--to', NEW]));
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('no access changes');
    expect(out.stdout).toContain('0 lost (0 accepted, 0 blocking), 0 gained');
  });

  it('a broken policy on either side is a located error: exit 2, no report', async () => {
    const workspace = new Workspace();
    try {
      workspace.write('broken/orders.yaml', 'service: orders\nrules:\n  - { id: x, effect: maybe }\n');
      const out = await capture(() => diffCommand(['--config', CONFIG, '--from', OLD, '--to', workspace.path('broken')]));
      expect(out).toMatchObject({ code: 2, stdout: '' });
      expect(out.stderr).toMatch(/broken\/orders\.yaml:3:\d+ \[invalid_value\] rules\[0\]\.effect/);
    } finally {
      workspace.remove();
    }
  });

  it('a malformed accept file is a located error: exit 2', async () => {
    const workspace = new Workspace();
    try {
      const file = workspace.write('accept.yaml', '- { service: orders, operation: getOrder }\n');
      const out = await diff('--accept', file);
      expect(out).toMatchObject({ code: 2, stdout: '' });
      expect(out.stderr).toBe(`${file}:1:3 [missing_key] [0].caller: required key is missing`);
    } finally {
      workspace.remove();
    }
  });

  it('usage errors: missing directories, a malformed --accept-loss, an unknown format', async () => {
    await expect(diffCommand(['--to', NEW])).rejects.toThrow('diff needs --from DIR');
    await expect(diffCommand(['--from', OLD])).rejects.toThrow('diff needs --to DIR');
    await expect(diffCommand(['--from', OLD, '--to', NEW, '--accept-loss', 'orders:getOrder'])).rejects.toThrow(UsageError);
    await expect(diffCommand(['--from', OLD, '--to', NEW, '--format', 'yaml'])).rejects.toThrow('--format: "yaml" is not text, json or markdown');
  });
});
