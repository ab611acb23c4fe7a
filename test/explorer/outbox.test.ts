// A cluster worker's explorer keeps nothing itself: its records wait in a bounded outbox for the
// primary, and each one dropped from a full outbox is reported (keycard_explorer_records_dropped_total).
import { describe, expect, it } from 'vitest';
import { KeycardExplorer } from '../../src/explorer/keycard-explorer.js';
import { explorerSettingsSchema } from '../../src/explorer/settings.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { authzInput, fixedIdentity, NO_RELATIONS, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml, user } from '../helpers/policy.js';

describe('a worker explorer outbox', () => {
  it('keeps the newest records up to its capacity and reports every record dropped', async () => {
    const policies = new PolicySet([compileYaml('service: vault\nrules:\n  - { id: all, effect: allow, match: { paths: ["/**"] } }\n')], 'v1');
    const pipeline = pipelineWith({ policies: () => policies, authenticator: fixedIdentity(user('alice')), store: new MemoryStore() });
    let dropped = 0;
    const explorer = new KeycardExplorer({
      settings: explorerSettingsSchema.parse({ enabled: true, capacity: 10 }),
      settingsFile: 'keycard.yaml',
      adminListen: { host: '127.0.0.1', port: 0 },
      forward: true,
      tryDeps: () => ({ policies, store: new MemoryStore(), relations: NO_RELATIONS, issuers: [] }),
      onDrop: () => dropped++,
    });
    for (let i = 0; i < 25; i++) {
      const input = authzInput('vault', `/secrets/${i}`);
      explorer.record(await pipeline.decide(input), input);
    }
    expect(explorer.served).toBeUndefined();
    expect(dropped).toBe(15);
    const kept = explorer.outbox!.take(100);
    expect(kept.map((record) => record.path)).toEqual(Array.from({ length: 10 }, (_, i) => `/secrets/${15 + i}`));
  });
});
