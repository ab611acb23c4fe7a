// Route matching and policy evaluation over the GitHub policy, in process: first every operation's
// concrete request, for a spread of callers, against the oracle (a wrong answer fails the run);
// then the time per evaluatePolicy call over a spread of 1,000 operations, in rounds.
import { performance } from 'node:perf_hooks';
import { ANONYMOUS, type Identity } from '../../src/authn/identity.js';
import { evaluatePolicy, type CallerContext } from '../../src/policy/evaluate.js';
import type { RuleIndex } from '../../src/policy/rule-index.js';
import type { CompiledPolicy } from '../../src/policy/types.js';
import { median } from '../load/report.js';
import type { ModelOperation, PolicyModel } from './model.js';
import { Oracle, type Caller } from './oracle.js';
import { concreteRequest, spread, type ConcreteRequest } from './requests.js';

export interface Timing {
  readonly label: string;
  readonly requests: number;
  /** Median over the rounds of the round's mean µs per evaluation. */
  readonly meanUs: number;
  /** Over the requests, of each request's median (over the rounds) µs per evaluation. */
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** The slowest request. */
  readonly slowest: string;
  readonly candidatesMax: number;
  readonly candidatesMean: number;
}

export interface CheckSummary {
  readonly evaluations: number;
  readonly allowed: number;
  readonly byReason: Readonly<Record<string, number>>;
  /** Requests whose path more than one operation's template fits (routing must pick the concrete one). */
  readonly ambiguous: number;
}

function identity(subject: string | undefined): Identity {
  if (subject === undefined) return ANONYMOUS;
  return { authenticated: true, subject, issuer: 'bench-idp', credential: 'jwt', claims: { sub: subject }, expiresAt: Number.MAX_SAFE_INTEGER };
}

function callerContext(request: ConcreteRequest, subject: string | undefined, roles: readonly string[]): CallerContext {
  return {
    identity: identity(subject),
    roles: new Set(roles),
    request: { method: request.method, path: request.path, headers: new Map(), clientAddress: '192.0.2.10' },
    now: Date.UTC(2026, 10, 23, 12),
    relations: { check: async () => ({ ok: false, detail: 'the GitHub benchmark has no relations' }) },
  };
}

/**
 * The callers each operation is checked with: every way the generated rules can go. `shadowing`:
 * the other operations whose templates fit the request's path; a caller with their roles only must
 * not get in (the request is the concrete operation, not theirs).
 */
function checkCallers(model: PolicyModel, request: ConcreteRequest, shadowing: readonly ModelOperation[]): { name: string; subject: string | undefined; roles: string[] }[] {
  const { tag } = request.operation;
  const otherTag = model.maintain.find((rule) => rule.tag !== tag)!.tag;
  const shadowRoles = [...new Set(shadowing.flatMap((operation) => operation.roles))];
  return [
    ...(shadowRoles.length > 0 ? [{ name: `roles of ${shadowing.map((operation) => operation.operationId).join(', ')}`, subject: 's', roles: shadowRoles }] : []),
    { name: 'anonymous', subject: undefined, roles: [] },
    { name: 'no roles', subject: 'nobody', roles: [] },
    { name: `${tag}-reader`, subject: 'r', roles: [`${tag}-reader`] },
    { name: `${tag}-writer`, subject: 'w', roles: [`${tag}-writer`] },
    { name: `${tag}-maintainer`, subject: 'm', roles: [`${tag}-maintainer`] },
    { name: `${otherTag}-maintainer`, subject: 'o', roles: [`${otherTag}-maintainer`, `${otherTag}-writer`] },
    { name: 'github-admin', subject: 'a', roles: [model.admin.role] },
  ];
}

/** Every operation × every caller kind against the oracle; throws listing the first disagreements. */
export async function checkDecisions(policy: CompiledPolicy, model: PolicyModel): Promise<CheckSummary> {
  const oracle = new Oracle(model);
  const wrong: string[] = [];
  const byReason: Record<string, number> = {};
  let evaluations = 0;
  let allowed = 0;
  let ambiguous = 0;
  for (const operation of model.operations) {
    const request = concreteRequest(operation);
    const shadowing = oracle.matching(request.method, request.segments).filter((other) => other !== oracle.resolve(request.method, request.segments));
    if (shadowing.length > 0) ambiguous++;
    for (const caller of checkCallers(model, request, shadowing)) {
      const context = callerContext(request, caller.subject, caller.roles);
      const got = await evaluatePolicy(policy, request, context);
      const want = oracle.decide(request.method, request.segments, { authenticated: caller.subject !== undefined, roles: context.roles } satisfies Caller);
      evaluations++;
      if (got.allowed) allowed++;
      byReason[got.reason] = (byReason[got.reason] ?? 0) + 1;
      if (got.allowed !== want.allowed || got.reason !== want.reason || got.rule?.id !== want.rule) {
        wrong.push(`${request.method} ${request.path} as ${caller.name}: keycard ${got.reason} (${got.rule?.id ?? '-'}), expected ${want.reason} (${want.rule ?? '-'})`);
      }
    }
  }
  if (wrong.length > 0) throw new Error(`${wrong.length} of ${evaluations} decisions differ from the generated rules:\n  ${wrong.slice(0, 20).join('\n  ')}`);
  return { evaluations, allowed, byReason, ambiguous };
}

export interface TimingOptions {
  readonly requests: number;
  readonly rounds: number;
  /** Evaluations of one request in a row, timed together. */
  readonly repeat: number;
}

/**
 * Mean µs per evaluation over `requests` operations: `allowed` callers hold the role their
 * operation's own rule asks for; the others hold an unrelated role, so no rule applies and every
 * candidate is tried (the longest path through the policy).
 */
export async function timeEvaluation(policy: CompiledPolicy, model: PolicyModel, kind: 'allowed' | 'denied' | 'allowed, linear scan', options: TimingOptions): Promise<Timing> {
  const requests = spread(model.operations, options.requests).map(concreteRequest);
  const contexts = requests.map((request) => callerContext(request, 'bench-user', kind === 'denied' ? ['unrelated-role'] : [request.operation.roles[0]!]));
  // The comparison baseline: every rule a candidate, as without the rule index.
  const evaluated: CompiledPolicy = kind === 'allowed, linear scan' ? { ...policy, index: { candidates: () => policy.rules } as unknown as RuleIndex } : policy;
  const expectAllowed = kind !== 'denied';
  for (const [i, request] of requests.entries()) {
    const result = await evaluatePolicy(evaluated, request, contexts[i]!);
    const protectedDelete = request.operation.operationId === model.deny.operationId;
    if (result.allowed !== (expectAllowed && !protectedDelete)) throw new Error(`${kind}: ${request.method} ${request.path} was ${result.reason}`);
  }
  const perRequest: number[][] = requests.map(() => []);
  const roundMeans: number[] = [];
  // One round first to warm up (not counted).
  for (let round = -1; round < options.rounds; round++) {
    let total = 0;
    for (const [i, request] of requests.entries()) {
      const context = contexts[i]!;
      const started = performance.now();
      for (let r = 0; r < options.repeat; r++) await evaluatePolicy(evaluated, request, context);
      const elapsed = performance.now() - started;
      total += elapsed;
      if (round >= 0) perRequest[i]!.push((elapsed * 1000) / options.repeat);
    }
    if (round >= 0) roundMeans.push((total * 1000) / (requests.length * options.repeat));
  }
  const costs = perRequest.map((samples) => median(samples));
  const sorted = [...costs].sort((a, b) => a - b);
  const slowestIndex = costs.indexOf(sorted.at(-1)!);
  const candidates = requests.map((request) => evaluated.index.candidates(request.method, request.segments).length);
  return {
    label: kind,
    requests: requests.length,
    meanUs: median(roundMeans),
    p50Us: quantile(sorted, 0.5),
    p99Us: quantile(sorted, 0.99),
    maxUs: sorted.at(-1)!,
    slowest: `${requests[slowestIndex]!.method} ${requests[slowestIndex]!.operation.path}`,
    candidatesMax: Math.max(...candidates),
    candidatesMean: candidates.reduce((sum, count) => sum + count, 0) / candidates.length,
  };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
