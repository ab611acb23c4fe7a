// Rule evaluation: an explicit deny that applies wins; otherwise the first allow that applies;
// otherwise deny. Every rule that matched the request is recorded in the trace with what stopped
// it, so a decision can always be explained. A rule that fails only on scope or on how the
// caller authenticated turns the deny into an insufficient_scope or step-up challenge.
import type { DenyReason } from '../errors.js';
import type { ConditionResult, EvaluationContext, StepUpRequirement } from './conditions/types.js';
import { matchPathTemplate, type Params, type PathTemplate } from './path-template.js';
import { includesTemplate } from './template-set.js';
import type { ApiOperation } from '../registry/types.js';
import type { CompiledPolicy, CompiledRule, Effect } from './types.js';

/** An HTTP request: its method and normalized path segments. */
export interface RequestFacts {
  readonly kind?: 'http';
  readonly method: string;
  readonly segments: readonly string[];
}

/** An access question: an action on a typed resource (its id is bound as `{id}`). */
export interface AccessRequestFacts {
  readonly kind: 'access';
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string;
}

/** What a policy is asked: HTTP rules answer requests, access rules answer access questions. */
export type QuestionFacts = RequestFacts | AccessRequestFacts;

export type RuleOutcome = 'applied' | 'condition_failed' | 'needs_authentication' | 'insufficient_scope' | 'step_up';

export interface RuleTrace {
  readonly id: string;
  readonly effect: Effect;
  readonly outcome: RuleOutcome;
  /** Description of the condition that failed, and why. */
  readonly failed?: string;
  /** For a relation grant: the chain of relations that granted it. */
  readonly chain?: readonly string[];
  /** What a credential would need to satisfy the rule (outcomes insufficient_scope and step_up). */
  readonly challenge?: Challenge;
  /** A dry-run deny rule: recorded, not enforced. */
  readonly dryRun?: true;
}

/** What a 401 step-up or 403 insufficient_scope answer must ask for. */
export interface Challenge {
  readonly scope?: readonly string[];
  readonly acrValues?: readonly string[];
  readonly maxAgeSeconds?: number;
}

export interface Evaluation {
  readonly allowed: boolean;
  readonly reason: DenyReason | 'allowed';
  readonly rule?: CompiledRule;
  readonly params: Params;
  readonly trace: readonly RuleTrace[];
  readonly challenge?: Challenge;
  /** Dry-run deny rules that applied: the request would have been denied by the first. */
  readonly dryRunDeny?: CompiledRule;
}

/** Everything conditions may look at except the path parameters, which each rule binds itself. */
export type CallerContext = Omit<EvaluationContext, 'params'>;

/**
 * Decides a request or an access question by the policy's rules: explicit (non-dry-run) deny
 * rules win, then the first allow; otherwise the most helpful deny. One evaluator for both kinds:
 * only the candidates and what a rule binds differ.
 */
export async function evaluatePolicy(policy: CompiledPolicy, question: QuestionFacts, caller: CallerContext): Promise<Evaluation> {
  const trace: RuleTrace[] = [];
  let allow: { rule: CompiledRule; params: Params } | undefined;
  let dryRunDeny: CompiledRule | undefined;

  const access = question.kind === 'access' ? question : undefined;
  const request = question.kind === 'access' ? undefined : question;
  // The operation the request is, resolved once and only if a rule bound to operations is a candidate.
  let operation: ApiOperation | null | undefined;
  const operationOf = (http: RequestFacts) => (operation === undefined ? (operation = policy.operations?.resolve(http.method, http.segments) ?? null) : operation);
  const candidates = access ? policy.accessIndex.candidates(access.resourceType, access.action) : policy.index.candidates(request!.method, request!.segments);

  for (const rule of candidates) {
    // Once an allow is found only deny rules can change the answer.
    if (allow && rule.effect === 'allow') continue;
    const params = access ? { id: access.resourceId } : rule.routes ? matchOperation(rule.routes, operationOf(request!), request!.segments) : matchRequest(rule, request!);
    if (!params) continue;
    const result = await applyRule(rule, { ...caller, params });
    trace.push({ id: rule.id, effect: rule.effect, ...result.trace, ...(rule.dryRun && { dryRun: true as const }) });
    if (result.trace.outcome !== 'applied') continue;
    if (rule.effect === 'deny') {
      if (rule.dryRun) {
        dryRunDeny ??= rule;
        continue;
      }
      return { allowed: false, reason: 'explicit_deny', rule, params, trace };
    }
    allow = { rule, params };
  }

  if (allow) return { allowed: true, reason: 'allowed', rule: allow.rule, params: allow.params, trace, dryRunDeny };
  return { allowed: false, params: {}, trace, ...denyFor(trace, caller) };
}

/** The most helpful deny: a step-up if re-authenticating would do, then missing scopes, then plain. */
function denyFor(trace: readonly RuleTrace[], caller: CallerContext): { reason: DenyReason; challenge?: Challenge } {
  const stepUp = trace.find((rule) => rule.effect === 'allow' && rule.outcome === 'step_up');
  if (stepUp) return { reason: 'insufficient_user_authentication', challenge: stepUp.challenge };
  const scoped = trace.find((rule) => rule.effect === 'allow' && rule.outcome === 'insufficient_scope');
  if (scoped) return { reason: 'insufficient_scope', challenge: scoped.challenge };
  // An anonymous caller that was not let in might be by authenticating: say so with a 401.
  return { reason: caller.identity.authenticated ? 'no_matching_rule' : 'authentication_required' };
}

/**
 * A rule bound to operations (or permissions) matches when the request *is* one of its operations:
 * routed as OpenAPI routes it, concrete paths before templated ones, not merely when one of its
 * templates fits the path.
 */
function matchOperation(routes: ReadonlyMap<string, readonly PathTemplate[]>, operation: ApiOperation | null, segments: readonly string[]): Params | undefined {
  if (!operation) return undefined;
  const templates = routes.get(operation.method);
  if (!templates || !includesTemplate(templates, operation.template)) return undefined;
  return matchPathTemplate(operation.template, segments);
}

function matchRequest(rule: CompiledRule, request: RequestFacts): Params | undefined {
  if (rule.methods && !rule.methods.has(request.method)) return undefined;
  if (!rule.paths) return {};
  return matchTemplates(rule.paths, request.segments);
}

/** The parameters bound by the first template that matches, or undefined. */
function matchTemplates(templates: readonly PathTemplate[] | undefined, segments: readonly string[]): Params | undefined {
  if (!templates) return undefined;
  for (const template of templates) {
    const params = matchPathTemplate(template, segments);
    if (params) return params;
  }
  return undefined;
}

interface Applied {
  readonly trace: Pick<RuleTrace, 'outcome' | 'failed' | 'chain' | 'challenge'>;
}

/** Applies one rule's conditions: plain ones first (stop at the first failure), then scope and step-up ones. */
export async function applyRule(rule: CompiledRule, context: EvaluationContext): Promise<Applied> {
  // Allow rules need an authenticated caller unless they say `anonymous: true`; deny rules apply to all.
  if (rule.effect === 'allow' && !rule.anonymous && !context.identity.authenticated) {
    return { trace: { outcome: 'needs_authentication' } };
  }
  let chain: readonly string[] | undefined;
  const missingScopes: string[] = [];
  const stepUps: StepUpRequirement[] = [];
  const failures: string[] = [];
  for (const condition of rule.conditions) {
    const pending = condition.evaluate(context);
    const result: ConditionResult = pending instanceof Promise ? await pending : pending;
    if (result.ok) {
      chain ??= result.chain;
      continue;
    }
    if (condition.category === 'plain') return { trace: { outcome: 'condition_failed', failed: result.detail } };
    failures.push(result.detail);
    if (result.missingScopes) missingScopes.push(...result.missingScopes);
    if (result.stepUp) stepUps.push(result.stepUp);
  }
  if (missingScopes.length > 0) {
    return { trace: { outcome: 'insufficient_scope', failed: failures.join('; '), challenge: { scope: [...new Set(missingScopes)] } } };
  }
  if (failures.length > 0) return { trace: { outcome: 'step_up', failed: failures.join('; '), challenge: mergeStepUps(stepUps) } };
  return { trace: { outcome: 'applied', ...(chain && { chain }) } };
}

/** One challenge for several step-up conditions: every acceptable acr, the shortest max_age. */
function mergeStepUps(stepUps: readonly StepUpRequirement[]): Challenge {
  const acrValues = [...new Set(stepUps.flatMap((stepUp) => stepUp.acrValues ?? []))];
  const maxAges = stepUps.flatMap((stepUp) => (stepUp.maxAgeSeconds === undefined ? [] : [stepUp.maxAgeSeconds]));
  return { ...(acrValues.length > 0 && { acrValues }), ...(maxAges.length > 0 && { maxAgeSeconds: Math.min(...maxAges) }) };
}
