// Routing a request to its operation (src/registry/operation-router.ts) and the rule index built on
// it (src/policy/rule-index.ts): against brute force on seeded random APIs. The router must pick
// what "the most specific template first" picks (sorted: at the first segment where two templates
// differ, the literal first; then document order); the index must offer exactly the rules that can
// match, so deciding through it equals deciding over every rule.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { isPathTemplate, matchPathTemplate, parsePathTemplate, type PathTemplate } from '../../src/policy/path-template.js';
import { RuleIndex } from '../../src/policy/rule-index.js';
import type { CompiledPolicy, CompiledRule } from '../../src/policy/types.js';
import { OperationRouter } from '../../src/registry/operation-router.js';
import type { ApiDescription, ApiOperation } from '../../src/registry/types.js';
import { callerContext, compileYaml, user } from '../helpers/policy.js';

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

const LITERALS = ['a', 'b', 'mine', 'orders'];
const METHODS = ['GET', 'POST', 'DELETE'];

function template(source: string): PathTemplate {
  const parsed = parsePathTemplate(source);
  if (!isPathTemplate(parsed)) throw new Error(parsed.problem);
  return parsed;
}

/** A random API: up to 30 operations of 0–4 segments, literals from a small set so templates collide. */
function randomApi(seed: number): ApiDescription {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const seen = new Set<string>();
  const operations: ApiOperation[] = [];
  const count = 1 + Math.floor(next() * 30);
  for (let i = 0; i < count; i++) {
    const length = Math.floor(next() * 5);
    const segments = Array.from({ length }, (_, at) => (next() < 0.6 ? pick(LITERALS) : `{p${at}}`));
    const path = `/${segments.join('/')}`;
    const method = pick(METHODS);
    if (seen.has(`${method} ${path}`)) continue;
    seen.add(`${method} ${path}`);
    const parsed = template(path);
    operations.push({
      operationId: `op${i}`,
      method,
      path,
      template: parsed,
      params: parsed.segments.flatMap((segment) => (segment.kind === 'param' ? [segment.name] : [])),
      permission: next() < 0.5 ? pick(['p.read', 'p.write']) : undefined,
      tags: [],
      pointer: `/paths/${i}`,
    });
  }
  return { file: 'api.yaml', title: 'random', version: '1', operations };
}

function randomRequest(next: () => number): { method: string; segments: string[] } {
  const length = Math.floor(next() * 5);
  const segments = Array.from({ length }, () => (next() < 0.7 ? LITERALS[Math.floor(next() * LITERALS.length)]! : 'x9'));
  return { method: METHODS[Math.floor(next() * METHODS.length)]!, segments };
}

/** The reference: every template of the method that matches, most specific first, stable. */
function bruteForce(operations: readonly ApiOperation[], method: string, segments: readonly string[]): ApiOperation | undefined {
  const specificity = (op: ApiOperation) => op.template.segments.map((segment) => (segment.kind === 'literal' ? '0' : '1')).join('');
  return operations
    .filter((op) => op.method === method && matchPathTemplate(op.template, segments) !== undefined)
    .sort((a, b) => (specificity(a) < specificity(b) ? -1 : specificity(a) > specificity(b) ? 1 : 0))[0];
}

const SEEDS = Array.from({ length: 40 }, (_, i) => 4242 + i * 7919);

/** Requests more than one template fitted, over all seeds: the cases routing is about must occur. */
let ambiguous = 0;

describe('OperationRouter', () => {
  it.each(SEEDS)('seed %i: resolves every request to the operation the most-specific-first order picks', (seed) => {
    const api = randomApi(seed);
    const router = new OperationRouter(api.operations);
    const next = random(seed + 1);
    for (let i = 0; i < 300; i++) {
      const { method, segments } = randomRequest(next);
      if (api.operations.filter((op) => op.method === method && matchPathTemplate(op.template, segments)).length > 1) ambiguous++;
      expect(router.resolve(method, segments)?.operationId, `seed ${seed}, ${method} /${segments.join('/')}`).toBe(bruteForce(api.operations, method, segments)?.operationId);
    }
  });

  it('met requests that several templates fit', () => {
    expect(ambiguous).toBeGreaterThan(100);
  });

  it('prefers a literal at the first segment where templates differ, however deep the literal branch fails', () => {
    const ops = ['/a/{x}/c', '/a/b/{y}', '/{z}/b/c', '/a/b/d'].map((path, i): ApiOperation => {
      const parsed = template(path);
      return { operationId: `op${i}`, method: 'GET', path, template: parsed, params: [], permission: undefined, tags: [], pointer: '' };
    });
    const router = new OperationRouter(ops);
    expect(router.resolve('GET', ['a', 'b', 'c'])?.path).toBe('/a/b/{y}');
    expect(router.resolve('GET', ['a', 'q', 'c'])?.path).toBe('/a/{x}/c');
    expect(router.resolve('GET', ['q', 'b', 'c'])?.path).toBe('/{z}/b/c');
    expect(router.resolve('GET', ['a', 'b', 'd'])?.path).toBe('/a/b/d');
    expect(router.resolve('GET', ['a', 'b'])).toBeUndefined();
    expect(router.resolve('POST', ['a', 'b', 'c'])).toBeUndefined();
  });
});

/** An index that offers every rule: the brute-force scan. */
class ScanAll extends RuleIndex {
  constructor(private readonly all: readonly CompiledRule[]) {
    super([]);
  }

  override candidates(): readonly CompiledRule[] {
    return this.all;
  }
}

/** A policy over the random API: rules by operation, by permission and by written paths, some with a role. */
function randomPolicy(seed: number, api: ApiDescription): CompiledPolicy {
  const next = random(seed + 2);
  const ids = api.operations.map((op) => op.operationId!);
  const permissions = [...new Set(api.operations.flatMap((op) => (op.permission ? [op.permission] : [])))];
  const rules: string[] = [];
  const count = 1 + Math.floor(next() * 20);
  for (let i = 0; i < count; i++) {
    const effect = next() < 0.25 ? 'deny' : 'allow';
    const when = next() < 0.4 ? ', when: [{ role: r1 }]' : '';
    const roll = next();
    let match: string;
    if (roll < 0.5) match = `operations: [${ids.filter(() => next() < 0.3).join(', ') || ids[0]}]`;
    else if (roll < 0.7 && permissions.length > 0) match = `permissions: [${permissions[Math.floor(next() * permissions.length)]}]`;
    else match = `paths: ["/${LITERALS[Math.floor(next() * LITERALS.length)]}/**"]`;
    rules.push(`  - { id: r${i}, effect: ${effect}, match: { ${match} }${when} }`);
  }
  const text = `service: s\napi: { openapi: api.yaml }\nrules:\n${rules.join('\n')}\n`;
  return compileYaml(text, ['test-idp'], 'policy.yaml', { apiDescriptions: new Map([[resolve('api.yaml'), api]]) });
}

const outcomes = new Set<string>();

describe('RuleIndex with the API routing', () => {
  it.each(SEEDS)('seed %i: offers rules bound to operations only for the operation the request is, and decides as a scan of every rule', async (seed) => {
    const api = randomApi(seed);
    const policy = randomPolicy(seed, api);
    const scanned: CompiledPolicy = { ...policy, index: new ScanAll(policy.rules) };
    const next = random(seed + 3);
    for (let i = 0; i < 150; i++) {
      const request = randomRequest(next);
      const operation = policy.operations!.resolve(request.method, request.segments);
      for (const rule of policy.index.candidates(request.method, request.segments)) {
        if (rule.routes) expect(rule.routes.get(request.method)?.some((t) => t.source === operation?.template.source), `seed ${seed}: ${rule.id}`).toBe(true);
      }
      const caller = callerContext({ identity: user('u'), roles: new Set(next() < 0.5 ? ['r1'] : []) });
      const viaIndex = await evaluatePolicy(policy, request, caller);
      const viaScan = await evaluatePolicy(scanned, request, caller);
      const summary = (e: typeof viaIndex) => ({ ...e, rule: e.rule?.id, dryRunDeny: e.dryRunDeny?.id });
      expect(summary(viaIndex), `seed ${seed}, ${request.method} /${request.segments.join('/')}`).toEqual(summary(viaScan));
      outcomes.add(viaIndex.reason);
    }
  });

  it('reached allows, explicit denies and no matching rule', () => {
    expect([...outcomes].sort()).toEqual(['allowed', 'explicit_deny', 'no_matching_rule']);
  });
});
