// One authorization decision: route → identity → state → authorize. Each phase is timed; any
// failure becomes a deny with a catalogued reason, never an exception out of decide(). A service
// in dry-run mode (or a dry-run deny rule) turns a would-be deny into an allow that is recorded.
import { randomUUID } from 'node:crypto';
import type { BlockList } from 'node:net';
import { performance } from 'node:perf_hooks';
import { credentialRequest } from '../authn/credentials/request-source.js';
import type { AuthenticationConfig, CredentialRequest } from '../authn/credentials/types.js';
import { ANONYMOUS, type AuthenticatedIdentity, type Identity } from '../authn/identity.js';
import { effectiveDenyPage, type DenyPageSettings } from '../config/deny-page-settings.js';
import { DenyError, denySpec, type DenyReason } from '../errors.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import { evaluatePolicy, type CallerContext, type Evaluation } from '../policy/evaluate.js';
import { permissionsFor } from '../policy/permissions.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { ReadOptions, StateStore, TokenFacts } from '../state/store.js';
import { clientAddress } from './client-address.js';
import { normalizeHost, normalizePath } from './normalize.js';
import type { AuthzInput, Decision, Phase } from './types.js';
import { readStore } from '../state/store-read.js';

export interface PipelineLimits {
  readonly maxHeaders: number;
  readonly maxHeaderBytes: number;
}

export interface PipelineDeps {
  /** The policy set to decide with; undefined while none has loaded. */
  readonly policies: () => PolicySet | undefined;
  /** The identity phase: an IdentityPhase, or a fixed identity for offline evaluation. */
  readonly authenticator: IdentityAuthenticator;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly limits: PipelineLimits;
  /** Proxies whose x-forwarded-for is believed; undefined believes none. */
  readonly trustedProxies?: BlockList;
  readonly now?: () => number;
  /** Told of every decision (metrics, audit). Must not throw or block. */
  readonly onDecision?: (decision: Decision, input: AuthzInput) => void;
  /**
   * Told of every decision after onDecision, with the caller it was made for (undefined when the
   * pipeline stopped before the caller and roles were known): the shadow policy set decides the
   * request again for the same caller. Must only schedule that work, never do it or throw.
   */
  readonly shadow?: (decision: Decision, input: AuthzInput, caller: CallerContext | undefined) => void;
  /** Settings `denyPage`: the HTML deny page for every service (a policy's `denyPage` overrides it). */
  readonly denyPage?: DenyPageSettings;
  /** Signs internal identity tokens (settings `internalToken`). Offline evaluation leaves it out: no token is made. */
  readonly identityTokens?: IdentityTokenIssuer;
}

export interface IdentityTokenIssuer {
  /** The request header the token travels in. */
  readonly header: string;
  /** A token for this caller, service and roles; rejects (DenyError or not) when none can be made. */
  issue(identity: AuthenticatedIdentity, service: string, roles: readonly string[]): Promise<string>;
}

export interface IdentityAuthenticator {
  /** The caller of the request, as the service's authentication config accepts it (DenyError when rejected). */
  authenticate(request: CredentialRequest, config: AuthenticationConfig): Promise<Identity>;
}

type Outcome = { reason: DenyReason | 'allowed'; detail?: string };

/** What the phases have established so far; becomes the Decision. */
interface Progress {
  policy?: CompiledPolicy;
  policyVersion?: string;
  path?: string;
  clientAddress?: string;
  caller?: CallerContext;
  evaluation?: Evaluation;
  permissions?: readonly string[];
}

export class Pipeline {
  private readonly now: () => number;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? Date.now;
  }

  async decide(input: AuthzInput): Promise<Decision> {
    const started = performance.now();
    const phaseMs: Partial<Record<Phase, number>> = {};
    const progress: Progress = {};
    let outcome: Outcome;
    try {
      outcome = await this.run(input, progress, phaseMs);
    } catch (error) {
      outcome = error instanceof DenyError
        ? { reason: error.reason, detail: error.detail }
        : { reason: 'internal_error', detail: (error as Error)?.stack ?? String(error) };
    }
    let decision = this.toDecision(outcome, progress, started, phaseMs);
    if (decision.allowed) decision = await this.withIdentityToken(decision, progress, started, phaseMs);
    try {
      this.deps.onDecision?.(decision, input);
    } catch {
      // Observers must never change a decision.
    }
    try {
      this.deps.shadow?.(decision, input, progress.caller);
    } catch {
      // Nor may the shadow evaluation.
    }
    return decision;
  }

  /**
   * Signing is async, so the identity token is made once the decision allows, not when the answer
   * is rendered. No token, no allow: a failure becomes a deny (internal_error, fail closed).
   */
  private async withIdentityToken(decision: Decision, progress: Progress, started: number, phaseMs: Partial<Record<Phase, number>>): Promise<Decision> {
    const issuer = this.deps.identityTokens;
    const { identity, service } = decision;
    if (!issuer || !progress.policy?.forward.identityToken || !identity.authenticated || service === undefined) return decision;
    try {
      const token = await issuer.issue(identity, service, decision.roles);
      return { ...decision, identityToken: { header: issuer.header, token }, durationMs: performance.now() - started };
    } catch (error) {
      const outcome: Outcome = error instanceof DenyError
        ? { reason: error.reason, detail: `identity token: ${error.detail ?? error.reason}` }
        : { reason: 'internal_error', detail: `identity token: ${(error as Error)?.message ?? String(error)}` };
      return this.toDecision(outcome, progress, started, phaseMs);
    }
  }

  private toDecision(outcome: Outcome, progress: Progress, started: number, phaseMs: Partial<Record<Phase, number>>): Decision {
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
    const denyPage = allowed ? undefined : effectiveDenyPage(policy?.denyPage, this.deps.denyPage);
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
      durationMs: performance.now() - started,
      phaseMs,
    };
  }

  private async run(input: AuthzInput, progress: Progress, phaseMs: Partial<Record<Phase, number>>): Promise<Outcome> {
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
    progress.clientAddress = clientAddress(input.source.address, input.headers.get('x-forwarded-for'), this.deps.trustedProxies);
    lap('route');

    // 2. identity
    const identity = await this.deps.authenticator.authenticate(credentialRequest(input, policy.storeReads), policy.authentication);
    lap('identity');

    // 3. state: revocations and roles from the live store, never from the token
    const reads = policy.storeReads;
    let roles = EMPTY_ROLES;
    if (identity.authenticated) {
      await this.checkNotRevoked(identity, reads);
      roles = await readStore(this.deps.store, () => this.deps.store.rolesFor(identity.subject, policy.service, reads));
    }
    const { relations } = this.deps;
    const caller: CallerContext = {
      identity,
      roles,
      request: { method: input.method, path: path.path, headers: input.headers, clientAddress: progress.clientAddress, peerPrincipal: input.source.principal },
      now: this.now(),
      relations: reads.maxStaleMs ? { check: (object, relation, subject) => relations.check(object, relation, subject, reads) } : relations,
    };
    progress.caller = caller;
    lap('state');

    // 4. authorize
    const evaluation = await evaluatePolicy(policy, { method: input.method, segments: path.segments }, caller);
    progress.evaluation = evaluation;
    if (evaluation.allowed && policy.forward.permissionsHeader) {
      progress.permissions = await permissionsFor(policy, caller, evaluation.params);
    }
    lap('authorize');
    return { reason: evaluation.reason, detail: evaluation.allowed ? undefined : describeDeny(evaluation) };
  }

  /** A revoked token (by jti, session or "all of the subject's tokens before T") is a 401. */
  private async checkNotRevoked(identity: AuthenticatedIdentity, reads: ReadOptions): Promise<void> {
    const { claims } = identity;
    const token: TokenFacts = {
      subject: identity.subject,
      ...(typeof claims.jti === 'string' && { jti: claims.jti }),
      ...(typeof claims.iat === 'number' && { issuedAt: claims.iat }),
      ...(typeof claims.sid === 'string' && { sid: claims.sid }),
    };
    const revocation = await readStore(this.deps.store, () => this.deps.store.revocationFor(token, reads));
    if (revocation) throw new DenyError('token_revoked', `${revocation.kind} ${revocation.id} revoked`);
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

function describeDeny(evaluation: Evaluation): string | undefined {
  if (evaluation.reason === 'explicit_deny') return `denied by rule ${evaluation.rule?.id}`;
  const failed = evaluation.trace.filter((rule) => rule.outcome !== 'applied');
  if (failed.length === 0) return undefined;
  return failed.map((rule) => `${rule.id}: ${rule.failed ?? rule.outcome.replace('_', ' ')}`).join('; ');
}

const EMPTY_ROLES: ReadonlySet<string> = new Set();
