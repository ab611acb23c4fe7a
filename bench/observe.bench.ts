// What every decision costs after it is made: the Prometheus metrics and the audit line, and the
// whole in-process decision (route, identity from a warm cache, roles, policy, metrics, audit).
import { afterAll, bench, describe } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.js';
import { Metrics } from '../src/metrics/metrics.js';
import { checkRequestToInput } from '../src/protocol/check-request.js';
import { loadFixture } from './fixture.js';

const fixture = await loadFixture();
const input = checkRequestToInput(fixture.decoded);
const decision = await fixture.keycard.pipeline.decide(input);
const metrics = new Metrics(() => true);
const audit = new AuditLog({ output: fixture.scenario.workspace.path('bench-audit.log') });
afterAll(async () => {
  await audit.close();
  fixture.scenario.workspace.remove();
});
const recorded = fixture.keycard.policies.current?.route(decision.service, '')?.recorded;

describe('after the decision', () => {
  bench('metrics: record a decision (counter, duration and 4 phase histograms)', () => {
    metrics.recordDecision(decision);
  });
  bench('audit: one decision line (buffered, asynchronous)', () => {
    audit.decision(decision, input, recorded);
  });
});

describe('whole decision, in process', () => {
  bench('pipeline.decide: warm token cache, memory store, 50 rules, metrics and audit', async () => {
    await fixture.keycard.pipeline.decide(input);
  });
});
