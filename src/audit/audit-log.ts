// The audit log: one JSON line per decision, explaining it (who, what, which rule, why). Written
// through an asynchronous buffered sink that drops, and counts, lines rather than block
// requests when the output cannot keep up. Lines have pino's shape (level, time, fields, msg).
import { hideAttributeValues } from '../access/hide-values.js';
import type { AccessQuestion } from '../access/types.js';
import { decisionLabel, type AuthzInput, type Decision } from '../pipeline/types.js';
import { LineSink } from './line-sink.js';

export interface AuditOptions {
  /** `stdout`, `stderr`, `off` or a file path. */
  readonly output: string;
  readonly onDrop?: () => void;
  /**
   * Other processes write to the same stdout/stderr (cluster workers): every write is whole lines
   * of at most PIPE_BUF bytes, which a pipe never interleaves with another writer's.
   */
  readonly sharedOutput?: boolean;
}

/** pino's number for level info. */
const INFO_LEVEL = 30;

/** Linux's PIPE_BUF: a write of at most this many bytes to a pipe is atomic. */
const PIPE_BUF = 4096;

/** At most this much audit text waits in memory; past it lines are dropped. */
const MAX_BUFFERED_CHARS = 8 * 1024 * 1024;
/** A write starts once this much waits; the rest is written within a second. */
const BATCH_CHARS = 64 * 1024;

export class AuditLog {
  private readonly sink: LineSink | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: AuditOptions) {
    if (options.output === 'off') return;
    const dest = options.output === 'stdout' ? 1 : options.output === 'stderr' ? 2 : options.output;
    const shared = options.sharedOutput === true && typeof dest === 'number';
    this.sink = new LineSink({
      dest,
      batchChars: BATCH_CHARS,
      maxBufferedChars: MAX_BUFFERED_CHARS,
      ...(shared && { maxWriteBytes: PIPE_BUF }),
      ...(options.onDrop && { onDrop: options.onDrop }),
      onError: (error) => process.emitWarning(`audit log write failed, lines lost: ${error.message}`),
    });
    // Lines are batched for throughput but never wait more than a second to be written.
    this.flushTimer = setInterval(() => this.sink?.flush(), 1000);
    this.flushTimer.unref();
  }

  /**
   * @param recorded claims and headers the service's policy reads: kept (never the token) so that
   *   `keycard replay` can decide the request again under another policy.
   */
  decision(decision: Decision, input: AuthzInput, recorded?: RecordedFields): void {
    if (!this.sink) return;
    const { identity } = decision;
    // Every field written out here: spreading shared fields in from a helper made V8 build this
    // object in dictionary mode, and JSON.stringify of it six times slower.
    this.writeLine('decision', {
      decision_id: decision.id,
      request_id: input.requestId,
      service: decision.service,
      method: input.method,
      host: input.host,
      path: decision.path ?? input.path.split('?')[0],
      source: input.source.address,
      subject: identity.authenticated ? identity.subject : undefined,
      issuer: identity.authenticated ? identity.issuer : undefined,
      credential: identity.authenticated ? identity.credential : undefined,
      peer: input.source.principal,
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
      latency_ms: latencyMs(decision),
    });
  }

  /**
   * An access question's decision (AuthZEN): who (subject type and id, as the caller asserted it),
   * which action on which resource, and why. Caller-sent properties and context are not written:
   * they may hold personal data. The rule trace says what the conditions found, with the values it
   * quotes from properties and context hidden (hide-values.ts).
   */
  accessDecision(decision: Decision, question: AccessQuestion): void {
    if (!this.sink) return;
    this.writeLine('access_decision', {
      decision_id: decision.id,
      request_id: question.requestId,
      service: decision.service,
      subject_type: question.subject.type,
      subject: question.subject.id,
      action: question.action.name,
      resource_type: question.resource.type,
      resource_id: question.resource.id,
      path: decision.path,
      roles: decision.roles,
      decision: decisionLabel(decision),
      status: decision.status,
      reason: decision.reason,
      rule: decision.ruleId,
      dry_run: decision.dryRun,
      explanation: decision.trace.map((rule) => (rule.failed === undefined ? rule : { ...rule, failed: hideAttributeValues(rule.failed) })),
      detail: decision.detail === undefined ? undefined : hideAttributeValues(decision.detail),
      policy_version: decision.policyVersion,
      latency_ms: latencyMs(decision),
    });
  }

  /** A change to the live state (`keycard roles|revoke|tuples`): who changed what, in which store. */
  stateChange(change: StateChangeRecord): void {
    const { actor, action, target, store } = change;
    this.writeLine('state_change', { actor, action, target, store });
  }

  /**
   * A request the shadow policy set decided otherwise than the enforced one: both sides with
   * their rules, so the candidate's changes can be read before it is enforced.
   */
  shadowDisagreement(record: ShadowDisagreementRecord): void {
    if (!this.sink) return;
    const { decision, enforced, shadow } = record;
    const { identity } = decision;
    // What was asked: a Check's request, or an access question (its subject as the caller asserted
    // it; never its properties or context, as in access_decision lines).
    const asked = record.question
      ? {
          subject_type: record.question.subject.type,
          subject: record.question.subject.id,
          action: record.question.action.name,
          resource_type: record.question.resource.type,
          resource_id: record.question.resource.id,
          path: decision.path,
        }
      : {
          method: record.input.method,
          host: record.input.host,
          path: decision.path ?? record.input.path.split('?')[0],
          subject: identity.authenticated ? identity.subject : undefined,
        };
    this.writeLine('shadow_disagreement', {
      decision_id: decision.id,
      request_id: (record.question ?? record.input).requestId,
      service: decision.service ?? shadow.service,
      ...asked,
      enforced: { decision: enforced.decision, reason: enforced.reason, rule: enforced.rule, policy_version: decision.policyVersion },
      shadow: { decision: shadow.decision, reason: shadow.reason, rule: shadow.rule, policy_version: shadow.policyVersion, detail: shadow.detail },
    });
  }

  /**
   * One line in pino's shape: level and time first, the record's type, its fields, `msg` last.
   * `type` is one of the fixed names above (nothing to escape). The fields are spliced in, not
   * copied into a second object: a copy costs a decision line a tenth more.
   */
  private writeLine(type: RecordType, fields: Readonly<Record<string, unknown>>): void {
    const body = JSON.stringify(fields);
    this.sink?.write(`{"level":${INFO_LEVEL},"time":"${new Date().toISOString()}","type":"${type}",${body.slice(1, -1)},"msg":"${type}"}\n`);
  }

  /**
   * Writes everything buffered, closes the sink and resolves once the lines are out. For short
   * processes (the CLI), which should not block on the write as flush() does.
   */
  close(): Promise<void> {
    clearInterval(this.flushTimer);
    this.closing ??= this.sink?.close() ?? Promise.resolve();
    return this.closing;
  }

  /** Writes what is buffered and stops the periodic flush; call before exit. */
  flush(): void {
    clearInterval(this.flushTimer);
    try {
      this.sink?.flushSync();
    } catch {
      // The output is gone (a closed pipe): nothing more can be written.
    }
  }
}

type RecordType = 'decision' | 'access_decision' | 'state_change' | 'shadow_disagreement';

function latencyMs(decision: Decision): number {
  return Number(decision.durationMs.toFixed(3));
}

/** One side of a shadow comparison: `decision` is allow, deny or dry_run_deny. */
export interface ShadowSide {
  readonly decision: 'allow' | 'deny' | 'dry_run_deny';
  readonly reason: string;
  readonly rule: string | undefined;
}

/** A disagreement on a Check (`input`) or on an access question (`question`). */
export type ShadowDisagreementRecord = ShadowDisagreementSides & ({ readonly input: AuthzInput; readonly question?: undefined } | { readonly question: AccessQuestion; readonly input?: undefined });

interface ShadowDisagreementSides {
  /** The enforced decision (its id, service, path and caller name the line). */
  readonly decision: Decision;
  readonly enforced: ShadowSide;
  readonly shadow: ShadowSide & { readonly service: string | undefined; readonly policyVersion: string | undefined; readonly detail: string | undefined };
}

/** What `keycard roles|revoke|tuples` changed: an operator action on the live state. */
export type StateAction =
  | 'roles.grant'
  | 'roles.revoke'
  | 'revoke.token'
  | 'revoke.subject'
  | 'revoke.session'
  | 'tuples.add'
  | 'tuples.remove'
  | 'apikeys.create'
  | 'apikeys.revoke'
  | 'sessions.create'
  | 'sessions.revoke'
  | 'subjects.set'
  | 'subjects.remove';

export interface StateChangeRecord {
  /** Who made the change (`--actor`, $KEYCARD_ACTOR or the OS user). */
  readonly actor: string;
  readonly action: StateAction;
  /** What was changed, e.g. `{ subject, role, service }`; never a credential. */
  readonly target: Readonly<Record<string, string>>;
  /** The store kind written to, e.g. `redis`. */
  readonly store: string;
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
