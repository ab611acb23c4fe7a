// The audit log: one JSON line per decision, explaining it (who, what, which rule, why). Written
// through an asynchronous buffered stream that drops, and counts, lines rather than block
// requests when the sink cannot keep up.
import { pino, type Logger } from 'pino';
import { decisionLabel, type AuthzInput, type Decision } from '../pipeline/types.js';

export interface AuditOptions {
  /** `stdout`, `stderr`, `off` or a file path. */
  readonly output: string;
  readonly onDrop?: () => void;
}

/** At most this much audit text waits in memory; past it lines are dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class AuditLog {
  private readonly logger: Logger | undefined;
  private readonly destination: ReturnType<typeof pino.destination> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(options: AuditOptions) {
    if (options.output === 'off') return;
    const dest = options.output === 'stdout' ? 1 : options.output === 'stderr' ? 2 : options.output;
    this.destination = pino.destination({ dest, sync: false, minLength: 4096, maxLength: MAX_BUFFERED_BYTES, mkdir: true });
    if (options.onDrop) this.destination.on('drop', options.onDrop);
    // Lines are batched for throughput but never wait more than a second to be written.
    this.flushTimer = setInterval(() => this.destination?.flush(), 1000);
    this.flushTimer.unref();
    this.logger = pino({ base: null, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime }, this.destination);
  }

  /**
   * @param recorded claims and headers the service's policy reads: kept (never the token) so that
   *   `keycard replay` can decide the request again under another policy.
   */
  decision(decision: Decision, input: AuthzInput, recorded?: RecordedFields): void {
    if (!this.logger) return;
    const { identity } = decision;
    this.logger.info(
      {
        type: 'decision',
        decision_id: decision.id,
        request_id: input.requestId,
        service: decision.service,
        method: input.method,
        host: input.host,
        path: decision.path ?? input.path.split('?')[0],
        source: input.source.address,
        subject: identity.authenticated ? identity.subject : undefined,
        issuer: identity.authenticated ? identity.issuer : undefined,
        roles: decision.roles,
        decision: decisionLabel(decision),
        status: decision.status,
        reason: decision.reason,
        rule: decision.ruleId,
        dry_run: decision.dryRun,
        challenge: decision.challenge,
        permissions: decision.permissions,
        client_address: decision.clientAddress,
        input: replayInput(decision, input, recorded),
        explanation: decision.trace,
        detail: decision.detail,
        policy_version: decision.policyVersion,
        latency_ms: Number(decision.durationMs.toFixed(3)),
      },
      'decision',
    );
  }

  /** Writes what is buffered and stops the periodic flush; call before exit. */
  flush(): void {
    clearInterval(this.flushTimer);
    try {
      this.destination?.flushSync();
    } catch {
      // Nothing buffered or the stream is not ready yet: nothing to lose.
    }
  }
}

export interface RecordedFields {
  readonly claims: readonly string[];
  readonly headers: readonly string[];
}

/** Headers every replay needs besides those the policy reads. */
export const ALWAYS_RECORDED_HEADERS: readonly string[] = ['x-forwarded-for'];

/** The request as `keycard replay` needs it: enough to decide again, never the credential. */
export interface ReplayInput {
  readonly method: string;
  readonly host: string;
  /** Request path as sent, without the query string. */
  readonly path: string;
  readonly service?: string;
  readonly source?: string;
  readonly headers: Record<string, string>;
  readonly claims?: Record<string, unknown>;
  /**
   * Claims and headers the policy reads that this request did not have, so that replay can tell
   * "absent" from "not recorded". Left out when nothing was missing.
   */
  readonly absent?: { readonly claims?: readonly string[]; readonly headers?: readonly string[] };
}

function replayInput(decision: Decision, input: AuthzInput, recorded: RecordedFields | undefined): ReplayInput {
  const headers: Record<string, string> = {};
  const absentHeaders: string[] = [];
  for (const name of [...ALWAYS_RECORDED_HEADERS, ...(recorded?.headers ?? [])]) {
    const value = input.headers.get(name);
    if (value !== undefined) headers[name] = value;
    else if (!ALWAYS_RECORDED_HEADERS.includes(name)) absentHeaders.push(name);
  }
  const { identity } = decision;
  let claims: Record<string, unknown> | undefined;
  const absentClaims: string[] = [];
  if (identity.authenticated) {
    claims = {};
    for (const name of recorded?.claims ?? []) {
      if (Object.hasOwn(identity.claims, name)) claims[name] = identity.claims[name];
      else absentClaims.push(name);
    }
  }
  const absent = {
    ...(absentClaims.length > 0 && { claims: absentClaims }),
    ...(absentHeaders.length > 0 && { headers: absentHeaders }),
  };
  return {
    method: input.method,
    host: input.host,
    path: input.path.split('?')[0] ?? '',
    service: input.service,
    source: input.source.address,
    headers,
    ...(claims && { claims }),
    ...((absent.claims || absent.headers) && { absent }),
  };
}
