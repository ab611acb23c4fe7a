// Policy evaluation cost against the number of rules: with the rule index, a service with 1,000
// rules should cost about what one with 10 does. Run with `make bench-micro`.
import { bench, describe } from 'vitest';
import { evaluatePolicy } from '../src/policy/evaluate.js';
import type { RuleIndex } from '../src/policy/rule-index.js';
import { callerContext, compileYaml, user } from '../test/helpers/policy.js';

function policyWith(ruleCount: number): string {
  const rules = Array.from({ length: ruleCount }, (_, i) => {
    const method = ['GET', 'POST', 'PUT', 'DELETE'][i % 4];
    return `  - { id: r${i}, effect: allow, match: { methods: [${method}], paths: ["/area${i}/items/{id}", "/area${i}/items/{id}/parts/**"] }, when: [{ role: [role${i % 7}, admin] }] }`;
  });
  return `service: bench\nrules:\n${rules.join('\n')}\n  - { id: no-v1, effect: deny, match: { paths: ["/v1/**"] } }\n`;
}

const caller = callerContext({ identity: user('alice'), roles: new Set(['role3']) });

for (const size of [10, 100, 1000]) {
  const policy = compileYaml(policyWith(size));
  const target = Math.floor(size / 2) - (Math.floor(size / 2) % 7) + 3; // a rule alice's role3 satisfies
  const method = ['GET', 'POST', 'PUT', 'DELETE'][target % 4]!;
  const allowed = { method, segments: [`area${target}`, 'items', '42'] };
  const missed = { method: 'PATCH', segments: ['nowhere', 'at', 'all'] };
  describe(`${size} rules`, () => {
    bench('allow (indexed)', async () => {
      const result = await evaluatePolicy(policy, allowed, caller);
      if (!result.allowed) throw new Error('expected an allow');
    });
    bench('no matching rule (indexed)', async () => {
      await evaluatePolicy(policy, missed, caller);
    });
    // Baseline: the same policy with every rule a candidate, as without the index.
    const scanning = { ...policy, index: { candidates: () => policy.rules } as unknown as RuleIndex };
    bench('allow (linear scan, for comparison)', async () => {
      await evaluatePolicy(scanning, allowed, caller);
    });
  });
}
