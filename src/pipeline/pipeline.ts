// One authorization decision: route → identity → state → authorize. Each phase is timed; any
// failure becomes a deny with a catalogued reason, never an exception out of decide(). A service
// in dry-run mode (or a dry-run deny rule) turns a would-be deny into an allow that is recorded.
import type { BlockList } from 'node:net';
import { performance } from 'node:perf_hooks';
import { credentialRequest } from '../authn/credentials/request-source.js';
import type { AuthenticationConfig, CredentialRequest } from '../authn/credentials/types.js';
import type { AuthenticatedIdentity, Identity } from '../authn/identity.js';
import type { DenyPageSettings } from '../config/deny-page-settings.js';
import { DenyError } from '../errors.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import { evaluatePolicy, type CallerContext } from '../policy/evaluate.js';
import { permissionsFor } from '../policy/permissions.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { StateStore } from '../state/store.js';
import { clientAddress } from './client-address.js';
import { buildDecision, checkNotRevoked, describeDeny, loadedPolicies, policyRelations, routePath, routePolicy, runPhases, type Lap, type Outcome, type Progress } from './decision-steps.js';
import type { AuthzInput, Decision, Phase, PhaseObserver } from './types.js';
import { readStore } from '../state/store-read.js';
import { directoryReader } from '../access/directory-reader.js';

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

export class Pipeline {
  private readonly now: () => number;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** `phases`: the request's trace, when it is traced (see PhaseObserver). */
  async decide(input: AuthzInput, phases?: PhaseObserver): Promise<Decision> {
    const { outcome, progress, started, phaseMs } = await runPhases((progress, lap) => this.run(input, progress, lap), phases);
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
    return buildDecision(outcome, progress, { started, phaseMs }, this.deps.denyPage);
  }

  private async run(input: AuthzInput, progress: Progress, lap: Lap): Promise<Outcome> {
    // 1. route
    this.checkRequest(input);
    const policies = loadedPolicies(this.deps.policies());
    progress.policyVersion = policies.version;
    const policy = routePolicy(policies, input.service, input.host);
    progress.policy = policy;
    const path = routePath(input.path);
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
      await checkNotRevoked(this.deps.store, identity, reads);
      roles = await readStore(this.deps.store, () => this.deps.store.rolesFor(identity.subject, policy.service, reads));
    }
    const { relations } = this.deps;
    const caller: CallerContext = {
      identity,
      roles,
      request: { method: input.method, path: path.path, headers: input.headers, clientAddress: progress.clientAddress, peerPrincipal: input.source.principal },
      now: this.now(),
      relations: policyRelations(relations, reads),
      ...(policy.readsDirectory && identity.authenticated && { subjectProperties: directoryReader(this.deps.store, identity.subject, reads) }),
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

  private checkRequest(input: AuthzInput): void {
    if (!/^[A-Z]+$/.test(input.method)) throw new DenyError('invalid_request', `method ${JSON.stringify(input.method)}`);
    const { maxHeaders, maxHeaderBytes } = this.deps.limits;
    if (input.headers.size > maxHeaders) throw new DenyError('request_too_large', `${input.headers.size} headers`);
    let bytes = 0;
    for (const [name, value] of input.headers) bytes += name.length + value.length;
    if (bytes > maxHeaderBytes) throw new DenyError('request_too_large', `${bytes} bytes of headers`);
  }
}

const EMPTY_ROLES: ReadonlySet<string> = new Set();
