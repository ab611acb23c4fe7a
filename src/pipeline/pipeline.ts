// One authorization decision: route → identity → state → authorize. Each phase is timed; any
// failure becomes a deny with a catalogued reason, never an exception out of decide().
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Authenticator } from '../authn/authenticator.js';
import { ANONYMOUS, type Identity } from '../authn/identity.js';
import { DenyError, denySpec, type DenyReason } from '../errors.js';
import { evaluatePolicy, type RuleTrace } from '../policy/evaluate.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { StateStore } from '../state/store.js';
import { normalizeHost, normalizePath } from './normalize.js';
import type { AuthzInput, Decision, Phase } from './types.js';

export interface PipelineLimits {
  readonly maxHeaders: number;
  readonly maxHeaderBytes: number;
}

export interface PipelineDeps {
  /** The policy set to decide with; undefined while none has loaded. */
  readonly policies: () => PolicySet | undefined;
  readonly authenticator: Authenticator;
  readonly store: StateStore;
  readonly limits: PipelineLimits;
  /** Told of every decision (metrics, audit). Must not throw or block. */
  readonly onDecision?: (decision: Decision, input: AuthzInput) => void;
}

/** What the phases have established so far; becomes the Decision. */
interface Progress {
  policy?: CompiledPolicy;
  policyVersion?: string;
  path?: string;
  identity: Identity;
  roles: readonly string[];
  trace: readonly RuleTrace[];
  ruleId?: string;
}

export class Pipeline {
  constructor(private readonly deps: PipelineDeps) {}

  async decide(input: AuthzInput): Promise<Decision> {
    const started = performance.now();
    const phaseMs: Partial<Record<Phase, number>> = {};
    const progress: Progress = { identity: ANONYMOUS, roles: [], trace: [] };
    let outcome: { reason: DenyReason | 'allowed'; detail?: string };
    try {
      outcome = await this.run(input, progress, phaseMs);
    } catch (error) {
      outcome = error instanceof DenyError
        ? { reason: error.reason, detail: error.detail }
        : { reason: 'internal_error', detail: (error as Error)?.stack ?? String(error) };
    }
    const allowed = outcome.reason === 'allowed';
    const decision: Decision = {
      id: randomUUID(),
      allowed,
      reason: outcome.reason,
      status: outcome.reason === 'allowed' ? 200 : denySpec(outcome.reason).status,
      service: progress.policy?.service,
      policyVersion: progress.policyVersion,
      ruleId: progress.ruleId,
      identity: progress.identity,
      roles: progress.roles,
      forwardIdentity: progress.policy?.forward.identityHeaders ?? false,
      trace: progress.trace,
      path: progress.path,
      detail: outcome.detail,
      durationMs: performance.now() - started,
      phaseMs,
    };
    try {
      this.deps.onDecision?.(decision, input);
    } catch {
      // Observers must never change a decision.
    }
    return decision;
  }

  private async run(
    input: AuthzInput,
    progress: Progress,
    phaseMs: Partial<Record<Phase, number>>,
  ): Promise<{ reason: DenyReason | 'allowed'; detail?: string }> {
    let mark = performance.now();
    const lap = (phase: Phase) => {
      const now = performance.now();
      phaseMs[phase] = now - mark;
      mark = now;
    };

    // 1. route
    this.checkRequest(input);
    const policies = this.deps.policies();
    if (!policies) throw new DenyError('not_ready', 'no policy set loaded');
    progress.policyVersion = policies.version;
    const policy = policies.route(input.service, normalizeHost(input.host));
    if (!policy) {
      throw new DenyError('unknown_service', input.service ? `service "${input.service}"` : `host "${input.host}"`);
    }
    progress.policy = policy;
    const path = normalizePath(input.path);
    if (!path.ok) throw new DenyError('invalid_path', path.problem);
    progress.path = path.path;
    lap('route');

    // 2. identity
    const identity = await this.deps.authenticator.authenticate((name) => input.headers.get(name), policy.issuers);
    progress.identity = identity;
    lap('identity');

    // 3. state
    const roles = identity.authenticated ? await this.rolesFor(identity.subject, policy.service) : EMPTY_ROLES;
    progress.roles = [...roles];
    lap('state');

    // 4. authorize
    const evaluation = evaluatePolicy(policy, { method: input.method, segments: path.segments }, { identity, roles });
    progress.trace = evaluation.trace;
    progress.ruleId = evaluation.rule?.id;
    lap('authorize');
    return { reason: evaluation.reason, detail: evaluation.allowed ? undefined : describeDeny(evaluation.trace) };
  }

  private async rolesFor(subject: string, service: string): Promise<ReadonlySet<string>> {
    try {
      return await this.deps.store.rolesFor(subject, service);
    } catch (error) {
      throw new DenyError('store_unavailable', `${this.deps.store.kind} store: ${(error as Error).message}`);
    }
  }

  private checkRequest(input: AuthzInput): void {
    if (!/^[A-Z]+$/.test(input.method)) throw new DenyError('invalid_request', `method ${JSON.stringify(input.method)}`);
    const { maxHeaders, maxHeaderBytes } = this.deps.limits;
    if (input.headers.size > maxHeaders) throw new DenyError('request_too_large', `${input.headers.size} headers`);
    let bytes = 0;
    for (const [name, value] of input.headers) bytes += name.length + value.length;
    if (bytes > maxHeaderBytes) throw new DenyError('request_too_large', `${bytes} bytes of headers`);
  }
}

function describeDeny(trace: readonly RuleTrace[]): string | undefined {
  const failed = trace.filter((rule) => rule.outcome !== 'applied');
  if (failed.length === 0) return undefined;
  return failed.map((rule) => `${rule.id}: ${rule.failed ?? rule.outcome.replace('_', ' ')}`).join('; ');
}

const EMPTY_ROLES: ReadonlySet<string> = new Set();
