// What a shadow policy set costs per decision, in process: the load benchmark's decision with and
// without the candidate deciding it again (the same 50-rule policy with one rule the request does
// not reach changed, so the two agree). Each iteration waits for the next event-loop turn, by which
// the shadow evaluation scheduled after the decision has run, so the difference is its whole cost.
import { afterAll, bench, describe } from 'vitest';
import { Keycard } from '../src/app.js';
import { loadSettings } from '../src/config/settings.js';
import { createLogger } from '../src/log/logger.js';
import { checkRequestToInput } from '../src/protocol/check-request.js';
import { loadFixture } from './fixture.js';
import { MEMORY_STORE, settingsYaml } from './load/scenario.js';
import { candidatePolicyYaml } from './load/shadow.js';

const fixture = await loadFixture();
const { workspace } = fixture.scenario;
workspace.write('policies-next/catalog.yaml', candidatePolicyYaml());
// Audit off in both: an agreeing shadow writes no line, and the audit sink's cost is not the question.
const withoutAudit = settingsYaml(MEMORY_STORE).replace('audit: { output: audit.log }', 'audit: { output: off }');
const plain = new Keycard(loadSettings(workspace.write('keycard-plain.yaml', withoutAudit)), createLogger('warn'));
const shadowed = new Keycard(loadSettings(workspace.write('keycard-shadow.yaml', `${withoutAudit}shadow: { dir: policies-next, watch: false }\n`)), createLogger('warn'));
for (const keycard of [shadowed, plain]) {
  const readiness = await keycard.load();
  if (!readiness.ready) throw new Error(`not ready: ${readiness.problems.join('; ')}`);
}
const input = checkRequestToInput(fixture.decoded);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// Warm both (token caches) and check that the shadow evaluation is done by the next turn.
for (const keycard of [shadowed, plain]) {
  const decision = await keycard.pipeline.decide(input);
  if (!decision.allowed) throw new Error(`denied: ${decision.reason}`);
}
await nextTurn();
if (shadowed.shadow?.evaluator.inFlight !== 0) throw new Error('the shadow evaluation was not done by the next event-loop turn');

afterAll(() => workspace.remove());

describe('shadow policy set', () => {
  bench('pipeline.decide, no shadow (audit off)', async () => {
    await plain.pipeline.decide(input);
    await nextTurn();
  });
  bench('pipeline.decide + shadow evaluation, 50-rule candidate that agrees (audit off)', async () => {
    await shadowed.pipeline.decide(input);
    await nextTurn();
  });
});
