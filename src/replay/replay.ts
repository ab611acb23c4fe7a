// `keycard replay`: decides recorded requests again under a candidate policy set and groups the
// decisions that change. Each audit line carries what deciding again needs (the request without
// the credential, the claims and headers the policy read, the caller's roles and the decision
// time); a line is fed in at a time, so the audit file is never held in memory, and the groups are
// bounded by the policies (service × rule × rule), not by the traffic.
import type { BlockList } from 'node:net';
import { z } from 'zod';
import { ALWAYS_RECORDED_HEADERS } from '../audit/audit-log.js';
import { DENY_REASONS, type DenyReason } from '../errors.js';
import { normalizeHost } from '../pipeline/normalize.js';
import { decideOffline } from '../pipeline/offline.js';
import { decisionLabel, type Decision } from '../pipeline/types.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { StateStore } from '../state/store.js';

export type DecisionLabel = 'allow' | 'deny' | 'dry_run_deny';

/** allow_to_deny: someone loses access; deny_to_allow: someone gains it; rule_change: same answer, another rule or reason. */
export type ChangeDirection = 'allow_to_deny' | 'deny_to_allow' | 'rule_change';

export const CHANGE_DIRECTIONS: readonly ChangeDirection[] = ['allow_to_deny', 'deny_to_allow', 'rule_change'];

export const SKIP_REASONS = {
  unparseable: 'not a JSON object',
  incomplete: 'a field replay needs is missing or malformed (written by an older keycard?)',
  not_routed: 'decided before routing (unknown service, malformed request, no policies): no caller was established',
  authentication_failed: 'the credential was rejected before any rule applied; the token is not recorded, so no policy can change that',
  not_a_policy_decision: 'keycard could not decide (store unavailable, internal error), so there is nothing to compare',
  unrecorded_input: 'the candidate policy reads a claim or header that was not recorded for this request',
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;

/** Deny reasons of the identity phase: the caller is unknown, so the line cannot be decided again. */
const AUTHENTICATION_FAILURES: ReadonlySet<string> = new Set<DenyReason>([
  'malformed_credential',
  'token_too_large',
  'malformed_token',
  'untrusted_issuer',
  'disallowed_algorithm',
  'unknown_key',
  'invalid_signature',
  'token_expired',
  'token_not_yet_valid',
  'invalid_audience',
  'invalid_claims',
  'jwks_unavailable',
]);
const NOT_POLICY_DECISIONS: ReadonlySet<string> = new Set<DenyReason>(['store_unavailable', 'internal_error', 'not_ready']);

const auditLineSchema = z.object({
  decision_id: z.string().optional(),
  service: z.string().optional(),
  subject: z.string().optional(),
  issuer: z.string().optional(),
  roles: z.array(z.string()).default([]),
  /** The mTLS peer identity (source.principal) the decision saw. */
  peer: z.string().optional(),
  decision: z.enum(['allow', 'deny', 'dry_run_deny']),
  reason: z.string().refine((reason) => reason === 'allowed' || Object.hasOwn(DENY_REASONS, reason), 'not a known reason'),
  rule: z.string().optional(),
  time: z.iso.datetime({ offset: true }),
  input: z.object({
    method: z.string(),
    host: z.string(),
    path: z.string(),
    service: z.string().optional(),
    source: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    claims: z.record(z.string(), z.unknown()).optional(),
    absent: z.object({ claims: z.array(z.string()).optional(), headers: z.array(z.string()).optional() }).optional(),
  }),
});

type AuditLine = z.infer<typeof auditLineSchema>;

/** One side of a change: what was decided and by which rule. */
export interface Outcome {
  readonly service?: string;
  readonly decision: DecisionLabel;
  readonly rule?: string;
  readonly reason: string;
}

export interface Example {
  /** 1-based line number in the audit file. */
  readonly line: number;
  readonly decisionId?: string;
  readonly time: string;
  readonly subject?: string;
  readonly method: string;
  readonly path: string;
}

export interface ChangeGroup {
  readonly direction: ChangeDirection;
  /** The service as recorded. */
  readonly service: string;
  readonly before: Outcome;
  readonly after: Outcome;
  count: number;
  readonly examples: Example[];
}

export interface SkipGroup {
  readonly reason: SkipReason;
  count: number;
  /** The first few lines skipped this way, with what made them so. */
  readonly examples: { readonly line: number; readonly detail: string }[];
}

export interface ReplayTotals {
  /** Non-blank lines read. */
  lines: number;
  /** Lines that are not decisions (other record types); not counted anywhere else. */
  other: number;
  decisions: number;
  replayed: number;
  unchanged: number;
  allow_to_deny: number;
  deny_to_allow: number;
  rule_change: number;
  skipped: number;
}

export interface ReplayReport {
  readonly totals: ReplayTotals;
  /** Sorted: direction, then service, then the largest groups first. */
  readonly changes: readonly ChangeGroup[];
  readonly skipped: readonly SkipGroup[];
  /** Changed decisions counted in the totals but in no group, because the group limit was reached. */
  readonly ungrouped: number;
}

export interface ReplayDeps {
  /** The candidate policy set. */
  readonly policies: PolicySet;
  /** For relation tuples (roles come from the audit line). */
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly trustedProxies?: BlockList;
}

export interface ReplayOptions {
  /** Most change groups kept (memory bound); further changes are only counted. */
  readonly maxGroups?: number;
  /** Examples kept per change or skip group. */
  readonly examplesPerGroup?: number;
}

export class Replay {
  private readonly totals: ReplayTotals = {
    lines: 0,
    other: 0,
    decisions: 0,
    replayed: 0,
    unchanged: 0,
    allow_to_deny: 0,
    deny_to_allow: 0,
    rule_change: 0,
    skipped: 0,
  };
  private readonly groups = new Map<string, ChangeGroup>();
  private readonly skips = new Map<SkipReason, SkipGroup>();
  private ungrouped = 0;
  private readonly maxGroups: number;
  private readonly examplesPerGroup: number;

  constructor(
    private readonly deps: ReplayDeps,
    options: ReplayOptions = {},
  ) {
    this.maxGroups = options.maxGroups ?? 10_000;
    this.examplesPerGroup = options.examplesPerGroup ?? 3;
  }

  /** Replays one line of the audit file. */
  async line(text: string, lineNumber: number): Promise<void> {
    if (text.trim() === '') return;
    this.totals.lines++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return this.skip('unparseable', lineNumber, (error as Error).message);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.skip('unparseable', lineNumber, 'not an object');
    if ((value as { type?: unknown }).type !== 'decision') {
      this.totals.other++;
      return;
    }
    this.totals.decisions++;
    const parsed = auditLineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return this.skip('incomplete', lineNumber, `${issue.path.join('.') || '(line)'}: ${issue.message}`);
    }
    const line = parsed.data;
    if (line.service === undefined) return this.skip('not_routed', lineNumber, line.reason);
    if (AUTHENTICATION_FAILURES.has(line.reason)) return this.skip('authentication_failed', lineNumber, line.reason);
    if (NOT_POLICY_DECISIONS.has(line.reason)) return this.skip('not_a_policy_decision', lineNumber, line.reason);
    const unrecorded = this.unrecorded(line);
    if (unrecorded) return this.skip('unrecorded_input', lineNumber, unrecorded);

    const decision = await this.decide(line);
    this.totals.replayed++;
    this.compare(line, decision, lineNumber);
  }

  report(): ReplayReport {
    const order = (direction: ChangeDirection) => CHANGE_DIRECTIONS.indexOf(direction);
    const changes = [...this.groups.values()].sort(
      (a, b) => order(a.direction) - order(b.direction) || compareText(a.service, b.service) || b.count - a.count || compareText(groupKey(a), groupKey(b)),
    );
    const skipped = [...this.skips.values()].sort((a, b) => b.count - a.count || compareText(a.reason, b.reason));
    return { totals: { ...this.totals }, changes, skipped, ungrouped: this.ungrouped };
  }

  /** Claims and headers the candidate reads for this request that the line did not record, if any. */
  private unrecorded(line: AuditLine): string | undefined {
    const policy = this.deps.policies.route(line.input.service, normalizeHost(line.input.host));
    if (!policy) return undefined;
    const missing: string[] = [];
    const { input } = line;
    if (line.subject !== undefined) {
      const known = new Set([...Object.keys(input.claims ?? {}), ...(input.absent?.claims ?? [])]);
      for (const claim of policy.recorded.claims) if (!known.has(claim)) missing.push(`claim ${claim}`);
    }
    const known = new Set([...ALWAYS_RECORDED_HEADERS, ...Object.keys(input.headers), ...(input.absent?.headers ?? [])]);
    for (const header of policy.recorded.headers) if (!known.has(header)) missing.push(`header ${header}`);
    return missing.length > 0 ? missing.join(', ') : undefined;
  }

  private decide(line: AuditLine): Promise<Decision> {
    const { input } = line;
    const now = Date.parse(line.time);
    return decideOffline(
      { policies: this.deps.policies, store: this.deps.store, relations: this.deps.relations, now: () => now, trustedProxies: this.deps.trustedProxies },
      { method: input.method, path: input.path, host: input.host, service: input.service, headers: input.headers, source: input.source, principal: line.peer },
      line.subject === undefined ? {} : { subject: line.subject, issuer: line.issuer, claims: input.claims ?? {}, roles: line.roles },
    );
  }

  private compare(line: AuditLine, decision: Decision, lineNumber: number): void {
    const before: Outcome = { service: line.service, decision: line.decision, ...(line.rule !== undefined && { rule: line.rule }), reason: line.reason };
    const after: Outcome = {
      ...(decision.service !== undefined && { service: decision.service }),
      decision: decisionLabel(decision),
      ...(decision.ruleId !== undefined && { rule: decision.ruleId }),
      reason: decision.reason,
    };
    if (before.service === after.service && before.decision === after.decision && before.rule === after.rule && before.reason === after.reason) {
      this.totals.unchanged++;
      return;
    }
    const allowedBefore = line.decision !== 'deny';
    const direction: ChangeDirection = allowedBefore === decision.allowed ? 'rule_change' : allowedBefore ? 'allow_to_deny' : 'deny_to_allow';
    this.totals[direction]++;
    const candidate: ChangeGroup = { direction, service: line.service!, before, after, count: 0, examples: [] };
    const key = groupKey(candidate);
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= this.maxGroups) {
        this.ungrouped++;
        return;
      }
      this.groups.set(key, (group = candidate));
    }
    group.count++;
    if (group.examples.length < this.examplesPerGroup) {
      group.examples.push({
        line: lineNumber,
        ...(line.decision_id !== undefined && { decisionId: line.decision_id }),
        time: line.time,
        ...(line.subject !== undefined && { subject: line.subject }),
        method: line.input.method,
        path: line.input.path,
      });
    }
  }

  private skip(reason: SkipReason, line: number, detail: string): void {
    this.totals.skipped++;
    let group = this.skips.get(reason);
    if (!group) this.skips.set(reason, (group = { reason, count: 0, examples: [] }));
    group.count++;
    if (group.examples.length < this.examplesPerGroup) group.examples.push({ line, detail });
  }
}

function outcomeKey(outcome: Outcome): string {
  return [outcome.service ?? '', outcome.decision, outcome.rule ?? '', outcome.reason].join('\u0000');
}

function groupKey(group: Pick<ChangeGroup, 'direction' | 'before' | 'after'>): string {
  return `${group.direction}\u0001${outcomeKey(group.before)}\u0001${outcomeKey(group.after)}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Replays every line of an async line source (e.g. readline over a file stream). */
export async function replayLines(lines: AsyncIterable<string>, deps: ReplayDeps, options: ReplayOptions = {}): Promise<ReplayReport> {
  const replay = new Replay(deps, options);
  let number = 0;
  for await (const text of lines) await replay.line(text, ++number);
  return replay.report();
}
