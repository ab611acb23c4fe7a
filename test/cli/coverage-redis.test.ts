// `keycard coverage` reads the caller classes from the configured store: here a private Redis
// (test/helpers/redis-server.ts), where a role granted a moment ago becomes a column. A store that
// does not answer is an error (exit 2), never a report that silently knows no roles.
import { cpSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coverageCommand } from '../../src/cli/coverage.js';
import { loadSettings } from '../../src/config/settings.js';
import { createStore } from '../../src/state/create-store.js';
import { RedisServer } from '../helpers/redis-server.js';
import { Workspace } from '../helpers/workspace.js';
import { capture } from './run-cli.js';

let redis: RedisServer;
let workspace: Workspace;

beforeAll(async () => {
  redis = await RedisServer.start();
  workspace = new Workspace();
  cpSync('test/fixtures/coverage/clean/policies', workspace.path('policies'), { recursive: true });
  cpSync('test/fixtures/coverage/clean/api', workspace.path('api'), { recursive: true });
}, 30_000);

afterAll(async () => {
  await redis?.remove();
  workspace?.remove();
});

function settings(url: string): string {
  return workspace.write(
    'keycard.yaml',
    `policies: { dir: policies }\nstore: { type: redis, url: "${url}", connectTimeout: 500ms, commandTimeout: 250ms }\nrelations: { subjectType: user, types: { order: { owner: [] } } }\n`,
  );
}

describe('keycard coverage with a Redis store', () => {
  it('has a column for each role the store binds for the service, global or its own, and none for other services', async () => {
    const config = settings(redis.url());
    const store = createStore(loadSettings(config).store);
    try {
      await store.grantRole({ subject: 'fiona', role: 'finance', service: 'orders' });
      await store.grantRole({ subject: 'alice', role: 'customer' });
      await store.grantRole({ subject: 'olga', role: 'auditor', service: 'billing' });
    } finally {
      await store.close();
    }
    const out = await capture(() => coverageCommand(['--config', config, '--format', 'json']));
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout) as { services: { callers: string[]; operations: { operation: string; verdicts: { caller: string; text: string }[] }[] }[] };
    expect(report.services[0]!.callers).toEqual(['anonymous', 'authenticated', 'role:customer', 'role:finance']);
    const refund = report.services[0]!.operations.find((operation) => operation.operation === 'refundOrder')!;
    expect(refund.verdicts.find((verdict) => verdict.caller === 'role:finance')!.text).toBe('allow if multi-factor authentication [refunds]');
  });

  it('a store that does not answer is exit 2 with one line, and no report', async () => {
    const stopped = await RedisServer.start();
    const url = stopped.url();
    await stopped.remove();
    const out = await capture(() => coverageCommand(['--config', settings(url)]));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^keycard coverage: cannot read the role bindings from the redis store: .+$/);
  });
});
