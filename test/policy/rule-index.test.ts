// The rule index: candidates() must return, in file order, exactly the rules whose method and
// first path segment allow them to match; and deciding through it must equal scanning every rule.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import { evaluatePolicy, type CallerContext } from '../../src/policy/evaluate.js';
import { RuleIndex } from '../../src/policy/rule-index.js';
import type { CompiledPolicy, CompiledRule } from '../../src/policy/types.js';
import { callerContext, compileYaml, user } from '../helpers/policy.js';

const POLICY = compileYaml(`
service: s
rules:
  - { id: get-orders, effect: allow, match: { methods: [GET], paths: [/orders, "/orders/{id}"] } }
  - { id: any-orders, effect: allow, match: { paths: ["/orders/**"] } }
  - { id: post-users, effect: allow, match: { methods: [POST], paths: ["/users/{id}"] } }
  - { id: param-first, effect: allow, match: { paths: ["/{tenant}/items"] } }
  - { id: star-first, effect: deny, match: { methods: [DELETE], paths: ["/*/admin"] } }
  - { id: root, effect: allow, match: { paths: [/] } }
  - { id: everything, effect: deny, match: { methods: [PUT], paths: ["/**"] } }
  - { id: no-paths, effect: allow, match: { methods: [GET, HEAD] } }
  - { id: two-prefixes, effect: allow, match: { paths: ["/orders/{id}/notes", "/users/{id}/notes"] } }
  - { id: anywhere, effect: allow }
`);

function ids(method: string, path: string, policy: CompiledPolicy = POLICY): string[] {
  return policy.index.candidates(method, path.split('/').filter(Boolean)).map((rule) => rule.id);
}

describe('RuleIndex.candidates', () => {
  it('GET /orders/1: method-specific and any-method rules for that first segment, plus rules that can start anywhere', () => {
    expect(ids('GET', '/orders/1')).toEqual(['get-orders', 'any-orders', 'param-first', 'root', 'no-paths', 'two-prefixes', 'anywhere']);
  });

  it('leaves out rules for other methods', () => {
    expect(ids('POST', '/orders/1')).toEqual(['any-orders', 'param-first', 'root', 'two-prefixes', 'anywhere']);
    expect(ids('PUT', '/orders/1')).toEqual(['any-orders', 'param-first', 'root', 'everything', 'two-prefixes', 'anywhere']);
    expect(ids('HEAD', '/orders/1')).toEqual(['any-orders', 'param-first', 'root', 'no-paths', 'two-prefixes', 'anywhere']);
  });

  it('leaves out rules for other first segments', () => {
    expect(ids('POST', '/users/7')).toEqual(['post-users', 'param-first', 'root', 'two-prefixes', 'anywhere']);
    expect(ids('GET', '/users/7')).toEqual(['param-first', 'root', 'no-paths', 'two-prefixes', 'anywhere']);
  });

  it('keeps templates starting with a parameter or * for every first segment', () => {
    expect(ids('DELETE', '/acme/admin')).toEqual(['param-first', 'star-first', 'root', 'anywhere']);
    expect(ids('DELETE', '/orders/admin')).toEqual(['any-orders', 'param-first', 'star-first', 'root', 'two-prefixes', 'anywhere']);
  });

  it('for "/" returns only rules without a literal first segment', () => {
    expect(ids('GET', '/')).toEqual(['param-first', 'root', 'no-paths', 'anywhere']);
    expect(ids('PUT', '/')).toEqual(['param-first', 'root', 'everything', 'anywhere']);
  });

  it('treats a method no rule names like any other unnamed method', () => {
    expect(ids('PATCH', '/orders/1')).toEqual(['any-orders', 'param-first', 'root', 'two-prefixes', 'anywhere']);
    expect(ids('OPTIONS', '/nothing-here')).toEqual(['param-first', 'root', 'anywhere']);
  });

  it('lists a rule with several templates once', () => {
    const list = ids('GET', '/users/1/notes');
    expect(list.filter((id) => id === 'two-prefixes')).toHaveLength(1);
  });

  it('answers the same again from its memo, and keeps keys apart', () => {
    const first = ids('GET', '/orders/1');
    ids('GET', '/users/1');
    ids('POST', '/orders/1');
    expect(ids('GET', '/orders/2')).toEqual(first);
    expect(ids('GET', '/users/2')).toEqual(['param-first', 'root', 'no-paths', 'two-prefixes', 'anywhere']);
  });

  it('returns nothing for a policy without rules', () => {
    expect(ids('GET', '/x', compileYaml('service: s\n'))).toEqual([]);
  });
});

// A seeded generator (mulberry32), so any failure is reproducible from the seed in its message.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LITERALS = ['a', 'b', 'c', 'orders', 'x1'];
const REQUEST_ONLY = ['zz', 'A'];

function generator(seed: number) {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;

  function segment(): string {
    const roll = next();
    if (roll < 0.6) return pick(LITERALS);
    if (roll < 0.8) return '*';
    return `{p${Math.floor(next() * 1000)}}`;
  }

  function template(): string {
    const roll = next();
    if (roll < 0.06) return '/';
    if (roll < 0.12) return '/**';
    const segments: string[] = [];
    const length = 1 + Math.floor(next() * 3);
    const used = new Set<string>();
    for (let i = 0; i < length; i++) {
      let s = segment();
      if (s.startsWith('{')) {
        // Every parameter name once per template.
        while (used.has(s)) s = `{q${Math.floor(next() * 1e6)}}`;
        used.add(s);
      }
      segments.push(s);
    }
    return `/${segments.join('/')}${chance(0.25) ? '/**' : ''}`;
  }

  function condition(): string {
    const roll = next();
    if (roll < 0.5) return '';
    if (roll < 0.7) return ', when: [{ header: { name: x-flag, equals: "1" } }]';
    if (roll < 0.85) return ', when: [{ role: r1 }]';
    return ', when: [{ scope: s1 }]';
  }

  function policyText(): string {
    const count = 1 + Math.floor(next() * 25);
    const rules: string[] = [];
    for (let i = 0; i < count; i++) {
      const effect = chance(0.3) ? 'deny' : 'allow';
      const match: string[] = [];
      if (chance(0.6)) {
        const methods = new Set<string>();
        const n = 1 + Math.floor(next() * 3);
        for (let m = 0; m < n; m++) methods.add(pick(['GET', 'POST', 'PUT', 'DELETE']));
        match.push(`methods: [${[...methods].join(', ')}]`);
      }
      if (chance(0.85)) {
        const n = 1 + Math.floor(next() * 3);
        match.push(`paths: [${Array.from({ length: n }, () => JSON.stringify(template())).join(', ')}]`);
      }
      const cond = condition();
      // Only allow rules may be anonymous, and only without conditions on the caller.
      const anonymousOk = effect === 'allow' && (cond === '' || cond.includes('header'));
      const anonymous = anonymousOk && chance(0.3) ? ', anonymous: true' : '';
      const dryRun = effect === 'deny' && chance(0.2) ? ', dryRun: true' : '';
      rules.push(`  - { id: r${i}, effect: ${effect}, match: { ${match.join(', ')} }${anonymous}${cond}${dryRun} }`);
    }
    return `service: s\nrules:\n${rules.join('\n')}\n`;
  }

  function request(): { method: string; segments: string[] } {
    const length = Math.floor(next() * 5);
    const segments = Array.from({ length }, () => (chance(0.15) ? pick(REQUEST_ONLY) : pick(LITERALS)));
    return { method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']), segments };
  }

  function caller(): CallerContext {
    const headers = new Map(chance(0.5) ? [['x-flag', '1']] : []);
    const request = { method: 'GET', path: '/', headers, clientAddress: '10.0.0.1' };
    if (chance(0.25)) return callerContext({ identity: ANONYMOUS, request });
    return callerContext({ identity: user('u', chance(0.5) ? { scope: 's1' } : {}), roles: new Set(chance(0.5) ? ['r1'] : []), request });
  }

  return { policyText, request, caller };
}

/** Could the rule match by method and first segment alone? (What the index promises to filter on.) */
function couldMatch(rule: CompiledRule, method: string, segments: readonly string[]): boolean {
  if (rule.methods && !rule.methods.has(method)) return false;
  if (!rule.paths) return true;
  return rule.paths.some((template) => {
    const first = template.segments[0];
    return first?.kind !== 'literal' || first.value === segments[0];
  });
}

/** An index that offers every rule: the brute-force scan. */
class ScanAll extends RuleIndex {
  constructor(private readonly all: readonly CompiledRule[]) {
    super([]);
  }

  override candidates(): readonly CompiledRule[] {
    return this.all;
  }
}

describe('RuleIndex against a brute-force scan (seeded random policies and requests)', () => {
  const SEEDS = Array.from({ length: 40 }, (_, i) => 1000 + i * 7919);

  it.each(SEEDS)('seed %i: candidates are exactly the rules that could match, in file order', (seed) => {
    const gen = generator(seed);
    const policy = compileYaml(gen.policyText());
    for (let i = 0; i < 150; i++) {
      const { method, segments } = gen.request();
      const expected = policy.rules.filter((rule) => couldMatch(rule, method, segments)).map((rule) => rule.id);
      const actual = policy.index.candidates(method, segments).map((rule) => rule.id);
      expect(actual, `seed ${seed}, ${method} /${segments.join('/')}`).toEqual(expected);
    }
  });

  it('decisions through the index equal decisions over every rule', async () => {
    const outcomes = new Map<string, number>();
    for (const seed of SEEDS) {
      const gen = generator(seed);
      const policy = compileYaml(gen.policyText());
      const scanned: CompiledPolicy = { ...policy, index: new ScanAll(policy.rules) };
      for (let i = 0; i < 150; i++) {
        const request = gen.request();
        const caller = gen.caller();
        const viaIndex = await evaluatePolicy(policy, request, caller);
        const viaScan = await evaluatePolicy(scanned, request, caller);
        const summary = (e: typeof viaIndex) => ({ ...e, rule: e.rule?.id, dryRunDeny: e.dryRunDeny?.id });
        expect(summary(viaIndex), `seed ${seed}, ${request.method} /${request.segments.join('/')}`).toEqual(summary(viaScan));
        const outcome = viaIndex.dryRunDeny ? 'dry_run_deny' : viaIndex.reason;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    // The generated cases must reach every kind of answer, or the comparison proves little.
    expect([...outcomes.keys()].sort()).toEqual(['allowed', 'authentication_required', 'dry_run_deny', 'explicit_deny', 'insufficient_scope', 'no_matching_rule']);
  });
});
