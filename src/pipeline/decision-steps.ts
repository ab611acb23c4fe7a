// The steps a decision shares whoever asks: Envoy's Check and the HTTP check mode (pipeline.ts)
// and access questions (src/access/access-decider.ts). Routing a method and path to a policy,
// binding relation reads to the policy's store options, and turning what the phases established
// into a Decision (dry-run included) live here once, so both front doors decide alike.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ANONYMOUS, type AuthenticatedIdentity } from '../authn/identity.js';
import { effectiveDenyPage, type DenyPageSettings } from '../config/deny-page-settings.js';
import { DenyError, denySpec, type DenyReason } from '../errors.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import type { CallerContext, Evaluation } from '../policy/evaluate.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { ReadOptions, StateStore, TokenFacts } from '../state/store.js';
import { readStore } from '../state/store-read.js';
import { normalizeHost, normalizePath } from './normalize.js';
import type { Decision, Phase, PhaseObserver } from './types.js';

export type Outcome = { reason: DenyReason | 'allowed'; detail?: string };

/** What the phases have established so far; becomes the Decision. */
export interface Progress {
  policy?: CompiledPolicy;
  policyVersion?: string;
  path?: string;
  clientAddress?: string;
  caller?: CallerContext;
  evaluation?: Evaluation;
  permissions?: readonly string[];
}

/** The loaded policy set, or a not_ready deny. */
export function loadedPolicies(policies: PolicySet | undefined): PolicySet {
  if (!policies) throw new DenyError('not_ready', 'no policy set loaded');
  return policies;
}

/** The policy for an explicit service, else for the host as sent (normalized here); unknown_service otherwise. */
export function routePolicy(policies: PolicySet, service: string | undefined, host: string): CompiledPolicy {
  const policy = policies.route(service, normalizeHost(host));
  if (!policy) throw new DenyError('unknown_service', service ? `service "${service}"` : `host "${host}"`);
  return policy;
}

/** The normalized path and its segments, or an invalid_path deny. */
export function routePath(path: string): { readonly path: string; readonly segments: readonly string[] } {
  const normalized = normalizePath(path);
  if (!normalized.ok) throw new DenyError('invalid_path', normalized.problem);
  return normalized;
}

/** Relation reads with the policy's store options (serve-stale policies may use cached answers). */
export function policyRelations(relations: RelationChecker, reads: ReadOptions): RelationChecker {
  return reads.maxStaleMs ? { check: (object, relation, subject) => relations.check(object, relation, subject, reads) } : relations;
}

export function describeDeny(evaluation: Evaluation): string | undefined {
  if (evaluation.reason === 'explicit_deny') return `denied by rule ${evaluation.rule?.id}`;
  const failed = evaluation.trace.filter((rule) => rule.outcome !== 'applied');
  if (failed.length === 0) return undefined;
  return failed.map((rule) => `${rule.id}: ${rule.failed ?? rule.outcome.replace('_', ' ')}`).join('; ');
}

/** A revoked token (by jti, session or "all of the subject's tokens before T") is a 401 token_revoked. */
export async function checkNotRevoked(store: StateStore, identity: AuthenticatedIdentity, reads?: ReadOptions): Promise<void> {
  const { claims } = identity;
  const token: TokenFacts = {
    subject: identity.subject,
    ...(typeof claims.jti === 'string' && { jti: claims.jti }),
    ...(typeof claims.iat === 'number' && { issuedAt: claims.iat }),
    ...(typeof claims.sid === 'string' && { sid: claims.sid }),
  };
  const revocation = await readStore(store, () => store.revocationFor(token, reads));
  if (revocation) throw new DenyError('token_revoked', `${revocation.kind} ${revocation.id} revoked`);
}

/** Any failure as an outcome: a DenyError's reason, anything else an internal_error (fail closed). */
export function failureOutcome(error: unknown): Outcome {
  return error instanceof DenyError
    ? { reason: error.reason, detail: error.detail }
    : { reason: 'internal_error', detail: (error as Error)?.stack ?? String(error) };
}

/** What running a decision's phases leaves behind: the outcome, what the phases established, and their timing. */
export interface PhasesRun extends DecisionTiming {
  readonly outcome: Outcome;
  readonly progress: Progress;
}

/** Ends the phase running now: times it (and tells the trace, when there is one); the next one starts. */
export type Lap = (phase: Phase) => void;

/**
 * Runs a decision's phases (inside the trace's context when traced), timed by the `lap` it hands
 * them; any failure becomes its outcome (failureOutcome), so nothing escapes as an exception.
 */
export async function runPhases(run: (progress: Progress, lap: Lap) => Promise<Outcome>, phases: PhaseObserver | undefined): Promise<PhasesRun> {
  const started = performance.now();
  const phaseMs: Partial<Record<Phase, number>> = {};
  const progress: Progress = {};
  let mark = started;
  const lap: Lap = (phase) => {
    const now = performance.now();
    phaseMs[phase] = now - mark;
    phases?.phase(phase, mark, now);
    mark = now;
  };
  let outcome: Outcome;
  try {
    outcome = await (phases === undefined ? run(progress, lap) : phases.within(() => run(progress, lap)));
  } catch (error) {
    outcome = failureOutcome(error);
  }
  return { outcome, progress, started, phaseMs };
}

export interface DecisionTiming {
  /** performance.now() when the decision started. */
  readonly started: number;
  readonly phaseMs: Partial<Record<Phase, number>>;
}

/**
 * The Decision for an outcome. A service in dry-run mode (or a dry-run deny rule that applied)
 * turns a would-be deny into an allow that records what would have been enforced.
 */
export function buildDecision(outcome: Outcome, progress: Progress, timing: DecisionTiming, denyPageSettings: DenyPageSettings | undefined): Decision {
  const { policy, evaluation } = progress;
  // What would be enforced without dry-run: the outcome, or a dry-run deny rule that applied.
  const dryRunRule = evaluation?.dryRunDeny;
  const wouldDeny = outcome.reason !== 'allowed' ? outcome.reason : dryRunRule ? 'explicit_deny' : undefined;
  // Malformed requests (400) are rejected even in dry-run: they are not a matter of policy.
  const dryRun =
    wouldDeny !== undefined &&
    denySpec(wouldDeny).status !== 400 &&
    (policy?.mode === 'dry-run' || (outcome.reason === 'allowed' && dryRunRule !== undefined));
  const allowed = outcome.reason === 'allowed' || dryRun;
  const identity = progress.caller?.identity ?? ANONYMOUS;
  const denyPage = allowed ? undefined : effectiveDenyPage(policy?.denyPage, denyPageSettings);
  return {
    id: randomUUID(),
    allowed,
    reason: allowed ? 'allowed' : outcome.reason,
    status: allowed ? 200 : denySpec(outcome.reason as DenyReason).status,
    ...(dryRun && { dryRun: { reason: wouldDeny, ruleId: outcome.reason === 'allowed' ? dryRunRule?.id : evaluation?.rule?.id } }),
    service: policy?.service,
    policyVersion: progress.policyVersion,
    ruleId: evaluation?.rule?.id,
    identity,
    roles: progress.caller ? [...progress.caller.roles] : [],
    forwardIdentity: policy?.forward.identityHeaders ?? false,
    permissions: progress.permissions,
    ...(denyPage && { denyPage }),
    challenge: allowed ? undefined : evaluation?.challenge,
    trace: evaluation?.trace ?? [],
    path: progress.path,
    clientAddress: progress.clientAddress,
    detail: outcome.detail,
    durationMs: performance.now() - timing.started,
    phaseMs: timing.phaseMs,
  };
}
