// Plain typed objects passed between front doors (gRPC Check, later HTTP and AuthZEN) and the
// pipeline. Nothing here knows about protobuf or HTTP servers.
import type { Identity } from '../authn/identity.js';
import type { DenyPageOptions } from '../config/deny-page-settings.js';
import type { DenyReason, DenyStatus } from '../errors.js';
import type { Challenge, RuleTrace } from '../policy/evaluate.js';

/** One authorization question about an HTTP request, as the proxy saw it. */
export interface AuthzInput {
  /** Upper-case HTTP method: the action. */
  readonly method: string;
  /** `:authority` / Host as sent, before normalization. */
  readonly host: string;
  /** Request target as sent (`:path`, query included), before normalization. */
  readonly path: string;
  /** Request headers, lower-case names. */
  readonly headers: ReadonlyMap<string, string>;
  /** Explicit service name (Envoy `context_extensions.service`); routes by host when absent. */
  readonly service?: string;
  /** The downstream peer as Envoy saw it: address and, for mTLS, the certificate's principal (URI SAN / SPIFFE ID). */
  readonly source: { readonly address?: string; readonly principal?: string };
  /** `metadata_context.filter_metadata` as plain JSON by filter name (e.g. Envoy's jwt_authn result). */
  readonly filterMetadata?: Readonly<Record<string, unknown>>;
  readonly contextExtensions: Readonly<Record<string, string>>;
  /** The proxy's request id (x-request-id), to join logs. */
  readonly requestId?: string;
}

export type Phase = 'route' | 'identity' | 'state' | 'authorize';

/**
 * Follows one decision's phases (tracing, src/tracing/decision-trace.ts). Passed to decide() only
 * for a traced request; absent otherwise, so an untraced decision pays a null check per phase.
 */
export interface PhaseObserver {
  /** Runs the phases, so that work they start (store reads, JWKS fetches) can find this decision. */
  within<T>(phases: () => Promise<T>): Promise<T>;
  /** `phase` ran from `start` to `end` (performance.now() marks). */
  phase(phase: Phase, start: number, end: number): void;
}

/** The outcome of one check, with everything needed to respond, count, audit and explain it. */
export interface Decision {
  readonly id: string;
  readonly allowed: boolean;
  readonly reason: DenyReason | 'allowed';
  readonly status: 200 | DenyStatus;
  /** Set when the request was allowed only because of dry-run: what would have been enforced. */
  readonly dryRun?: { readonly reason: DenyReason; readonly ruleId?: string };
  /** The routed service, when a policy was found. */
  readonly service?: string;
  readonly policyVersion?: string;
  /** The rule that allowed or explicitly denied. */
  readonly ruleId?: string;
  readonly identity: Identity;
  /** Roles of the caller for this service, from the store. */
  readonly roles: readonly string[];
  /** Whether the policy wants identity headers forwarded to the service. */
  readonly forwardIdentity: boolean;
  /** Permissions the caller holds for the service (only when the policy forwards them). */
  readonly permissions?: readonly string[];
  /**
   * The internal identity token for the service and the header it travels in (allowed,
   * authenticated callers of a policy with `forward.identityToken`). A bearer credential: sent
   * to the service only, never logged or audited.
   */
  readonly identityToken?: { readonly header: string; readonly token: string };
  /** Denies only, when the service serves the HTML deny page (`denyPage.html`): its options. */
  readonly denyPage?: DenyPageOptions;
  /** For insufficient_scope and step-up denies: what the credential must carry. */
  readonly challenge?: Challenge;
  /** Every rule that matched the request and what became of it. */
  readonly trace: readonly RuleTrace[];
  /** Normalized path, when the path was acceptable. */
  readonly path?: string;
  /** The client address conditions used (peer, or x-forwarded-for behind trusted proxies). */
  readonly clientAddress?: string;
  /** Internal detail (never sent to the client): which check failed and why. */
  readonly detail?: string;
  readonly durationMs: number;
  readonly phaseMs: Readonly<Partial<Record<Phase, number>>>;
}

/** allow, deny, or dry_run_deny: allowed, but only because dry-run did not enforce a deny. */
export function decisionLabel(decision: Decision): 'allow' | 'deny' | 'dry_run_deny' {
  if (decision.dryRun) return 'dry_run_deny';
  return decision.allowed ? 'allow' : 'deny';
}
