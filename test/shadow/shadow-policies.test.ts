// The candidate set's own log lines: a broken candidate is reported as a shadow problem, never in
// the enforced set's words ("not ready"), and the shadow's messages carry policySet: shadow.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ShadowPolicies } from '../../src/shadow/shadow-policies.js';
import { ORDERS_POLICY, Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => workspace?.remove());

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

describe('shadow policy logs', () => {
  it('reports a broken candidate as a shadow problem, not as keycard being not ready', async () => {
    workspace = new Workspace().writeAll({ 'shadow/orders.yaml': 'service: [broken' });
    const { logger, lines } = capture();
    const shadow = new ShadowPolicies({ dir: workspace.path('shadow'), watch: false, logger, onReload: () => undefined, issuers: new Set(['test-idp']) });
    await shadow.load();
    const messages = lines.map((line) => String(line.msg));
    expect(messages.some((message) => /not ready/.test(message))).toBe(false);
    expect(lines.filter((line) => line.policySet === 'shadow' && line.level === 50)).not.toHaveLength(0);
    shadow.close();
  });

  it('logs a loaded candidate once, as the shadow set', async () => {
    workspace = new Workspace().writeAll({ 'shadow/orders.yaml': ORDERS_POLICY });
    const { logger, lines } = capture();
    const shadow = new ShadowPolicies({ dir: workspace.path('shadow'), watch: false, logger, onReload: () => undefined, issuers: new Set(['test-idp']) });
    await shadow.load();
    expect(lines.map((line) => line.msg)).toEqual(['shadow policies loaded']);
    shadow.close();
  });
});
