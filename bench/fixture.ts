// What the micro-benchmarks share: the load benchmark's scenario (50-rule policy, RS256 issuer,
// seeded roles, an Envoy-shaped CheckRequest) loaded into an in-process Keycard, without listening.
import { Keycard } from '../src/app.js';
import { loadSettings } from '../src/config/settings.js';
import { createLogger } from '../src/log/logger.js';
import { checkRequestToInput } from '../src/protocol/check-request.js';
import type { CheckRequest__Output } from '../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import { authorizationService } from '../src/protocol/proto.js';
import { createScenario, MEMORY_STORE, type Scenario } from './load/scenario.js';

export interface LoadedFixture {
  readonly scenario: Scenario;
  readonly keycard: Keycard;
  /** The request as grpc-js hands it to the handler. */
  readonly decoded: CheckRequest__Output;
}

export async function loadFixture(): Promise<LoadedFixture> {
  const scenario = await createScenario();
  const settings = loadSettings(scenario.settingsFor(MEMORY_STORE, 'keycard.yaml'));
  const keycard = new Keycard(settings, createLogger('warn'));
  const readiness = await keycard.load();
  if (!readiness.ready) throw new Error(`fixture not ready: ${readiness.problems.join('; ')}`);
  const decoded = authorizationService().service.Check.requestDeserialize(scenario.frame.subarray(5)) as CheckRequest__Output;
  // Warm the token cache: the load benchmark measures keycard with a warm cache.
  const decision = await keycard.pipeline.decide(checkRequestToInput(decoded));
  if (!decision.allowed) throw new Error(`fixture request denied: ${decision.reason} ${decision.detail ?? ''}`);
  return { scenario, keycard, decoded };
}
