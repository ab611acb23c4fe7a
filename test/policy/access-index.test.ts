// The access rule index, built whole when the policy loads: for every resource type and any
// action, candidates() are exactly the access rules naming the type whose actions include the
// action or that name none, in file order; declaredActions() the actions the type's rules name,
// in the order first written. Checked against a plain walk of the rules on random policies.
import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/policy/types.js';
import { compileYaml } from '../helpers/policy.js';

const TYPES = ['todo', 'list', 'note'];
const ACTIONS = ['read', 'write', 'share', 'delete'];

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPolicy(seed: number): CompiledPolicy {
  const next = random(seed);
  const some = (names: readonly string[]) => names.filter(() => next() < 0.4);
  const rules = Array.from({ length: 1 + Math.floor(next() * 12) }, (_, i) => {
    const resources = some(TYPES);
    const actions = some(ACTIONS);
    const match = `{ resources: [${(resources.length > 0 ? resources : ['todo']).join(', ')}]${next() < 0.3 ? '' : `, actions: [${(actions.length > 0 ? actions : ['read']).join(', ')}]`} }`;
    return `  - { id: r${i}, effect: ${next() < 0.2 ? 'deny' : 'allow'}, match: ${match}, when: [{ role: member }] }`;
  });
  return compileYaml(`service: s\nrules:\n  - { id: http, effect: allow, match: { methods: [GET] } }\n${rules.join('\n')}\n`);
}

const walkCandidates = (policy: CompiledPolicy, type: string, action: string) =>
  policy.accessRules.filter((rule) => rule.access!.resources.includes(type) && (rule.access!.actions === undefined || rule.access!.actions.has(action))).map((rule) => rule.id);

function walkActions(policy: CompiledPolicy, type: string): string[] {
  const names = new Set<string>();
  for (const rule of policy.accessRules) if (rule.access!.resources.includes(type)) for (const action of rule.access!.actions ?? []) names.add(action);
  return [...names];
}

describe('AccessRuleIndex', () => {
  it.each(Array.from({ length: 40 }, (_, seed) => seed + 1))('seed %i: candidates and declared actions are those of a walk over the rules', (seed) => {
    const policy = randomPolicy(seed);
    for (const type of [...TYPES, 'other']) {
      for (const action of [...ACTIONS, 'never-named', '']) {
        expect(policy.accessIndex.candidates(type, action).map((rule) => rule.id), `${type} ${action}`).toEqual(walkCandidates(policy, type, action));
      }
      expect(policy.accessIndex.declaredActions(type), type).toEqual(walkActions(policy, type));
    }
  });

  it('answers an action no rule names with one shared list: questions never add to the index', () => {
    const policy = randomPolicy(7);
    expect(policy.accessIndex.candidates('todo', 'made-up-1')).toBe(policy.accessIndex.candidates('todo', 'made-up-2'));
  });
});
