// What the explorer keeps of one decision: a sanitized summary built when the decision is made.
// Never a credential: no header values, no query string (which can carry tokens), no internal
// identity token; a header value that a condition's message quotes is redacted. Subjects are
// masked when the settings ask. Every string is bounded, so the ring's memory is too.
// Check decisions (Envoy, the HTTP check mode) are CheckRecords; access decisions (AuthZEN) are
// AccessRecords (access-record.ts).
import type { CredentialKind } from '../authn/identity.js';
import { decisionLabel, type AuthzInput, type Decision } from '../pipeline/types.js';
import type { Challenge, RuleTrace } from '../policy/evaluate.js';
import type { AccessRecord } from './access-record.js';
import type { SubjectMasker } from './mask.js';

/** A decision of either kind, as the ring keeps it. */
export type ExplorerRecord = CheckRecord | AccessRecord;

/** What either kind of record says of the outcome (outcomeFields makes it). */
export interface RecordOutcome {
  readonly roles: readonly string[];
  readonly decision: 'allow' | 'deny' | 'dry_run_deny';
  readonly status: number;
  readonly reason: string;
  readonly rule?: string;
  readonly trace: readonly RuleTrace[];
  readonly dryRun?: { readonly reason: string; readonly ruleId?: string };
  readonly challenge?: Challenge;
  readonly detail?: string;
}

export interface CheckRecord extends RecordOutcome {
  /** Always set by keycard; absent only in records from before access decisions were recorded. */
  readonly kind?: 'check';
  readonly id: string;
  /** ISO 8601, when the decision was made. */
  readonly time: string;
  /** The routed service, when a policy was found. */
  readonly service?: string;
  /** The service the request named (Envoy context_extensions); absent when it was routed by host. */
  readonly requestedService?: string;
  readonly method: string;
  readonly host: string;
  /** The path as sent, without its query string. */
  readonly requestPath: string;
  /** The normalized path, when the path was acceptable. */
  readonly path?: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly credential?: CredentialKind;
  /** Verified claims other than the registered ones (left out when subjects are masked). */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly permissions?: readonly string[];
  readonly clientAddress?: string;
  /** The mTLS peer identity Envoy reported. */
  readonly peer?: string;
  readonly latencyMs: number;
  readonly requestId?: string;
  readonly policyVersion?: string;
}

/** Claims every token carries; the explanation lists only the others. */
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

export const MAX_PATH = 2048;
export const MAX_SHORT = 256;
export const MAX_MESSAGE = 1024;
export const MAX_DETAIL = 2048;
const MAX_CLAIMS_JSON = 2048;
export const MAX_TRACE = 100;
/** Shorter header values are not redacted from messages: they would blank out ordinary words. */
const MIN_SECRET_LENGTH = 6;
/** Headers that carry credentials; other headers whose names look like these are treated alike. */
const SECRET_HEADER = /authorization|cookie|token|secret|password|passwd|credential|session|api[-_]?key|^x-.*key$/i;

export interface RecordOptions {
  /** Settings `explorer.maskSubjects`. */
  readonly masker?: SubjectMasker;
  readonly now?: () => number;
}

export function toExplorerRecord(decision: Decision, input: AuthzInput, options: RecordOptions = {}): CheckRecord {
  const { identity } = decision;
  const { masker } = options;
  const subject = identity.authenticated ? identity.subject : undefined;
  const shownSubject = subject !== undefined && masker ? masker.mask(subject) : subject;
  const clean = cleaner(input, subject, shownSubject);
  const requestPath = bound(input.path.split(/[?#]/, 1)[0]!, MAX_PATH);
  return {
    kind: 'check',
    id: decision.id,
    time: new Date(options.now?.() ?? Date.now()).toISOString(),
    ...(decision.service !== undefined && { service: decision.service }),
    ...(input.service && { requestedService: bound(input.service, MAX_SHORT) }),
    method: bound(input.method, 32),
    host: bound(input.host, MAX_SHORT),
    requestPath,
    ...(decision.path !== undefined && { path: bound(decision.path, MAX_PATH) }),
    ...(identity.authenticated && {
      subject: bound(shownSubject!, MAX_SHORT),
      issuer: identity.issuer,
      credential: identity.credential,
      ...(!masker && { claims: extraClaims(identity.claims) }),
    }),
    ...outcomeFields(decision, clean),
    ...(decision.permissions && { permissions: decision.permissions.slice(0, 256) }),
    ...(decision.clientAddress !== undefined && { clientAddress: decision.clientAddress }),
    ...(input.source.principal !== undefined && { peer: bound(input.source.principal, MAX_SHORT) }),
    latencyMs: Number(decision.durationMs.toFixed(3)),
    ...(input.requestId !== undefined && { requestId: bound(input.requestId, MAX_SHORT) }),
    ...(decision.policyVersion !== undefined && { policyVersion: decision.policyVersion }),
  };
}

/**
 * Rewrites a message for the explorer: credential header values (whole, the part after the
 * scheme, each cookie value) become [redacted], and the subject its mask. The credentials are
 * gathered only when a message needs cleaning, which most decisions never do.
 */
function cleaner(input: AuthzInput, subject: string | undefined, shownSubject: string | undefined): (text: string) => string {
  let secrets: string[] | undefined;
  return (text) => {
    secrets ??= credentialValues(input.headers);
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    if (subject !== undefined && shownSubject !== subject && out.includes(subject)) out = out.split(subject).join(shownSubject!);
    return out;
  };
}

function credentialValues(headers: ReadonlyMap<string, string>): string[] {
  const values = new Set<string>();
  for (const [name, value] of headers) {
    if (!SECRET_HEADER.test(name)) continue;
    values.add(value);
    const space = value.indexOf(' ');
    if (space > 0) values.add(value.slice(space + 1).trim());
    for (const part of value.split(/[;,]/)) {
      const eq = part.indexOf('=');
      values.add((eq >= 0 ? part.slice(eq + 1) : part).trim());
    }
  }
  // Longest first, so that a whole value is replaced before a part of it.
  return [...values].filter((value) => value.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

function extraClaims(claims: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> | undefined {
  const extra = Object.entries(claims).filter(([name]) => !REGISTERED_CLAIMS.has(name));
  if (extra.length === 0) return undefined;
  const kept = Object.fromEntries(extra);
  const size = JSON.stringify(kept)?.length ?? 0;
  return size <= MAX_CLAIMS_JSON ? kept : { '(claims)': `${size} characters of claims, too many to keep` };
}

/**
 * What a decision concluded, the part every record kind shares: roles, verdict, deciding rule, the
 * rules considered, dry-run, challenge and detail; messages cleaned by the record kind's `clean`
 * and bounded.
 */
export function outcomeFields(decision: Decision, clean: (text: string) => string): RecordOutcome {
  return {
    roles: decision.roles.slice(0, 64),
    decision: decisionLabel(decision),
    status: decision.status,
    reason: decision.reason,
    ...(decision.ruleId !== undefined && { rule: decision.ruleId }),
    trace: decision.trace.slice(0, MAX_TRACE).map((rule) => ({
      ...rule,
      ...(rule.failed !== undefined && { failed: bound(clean(rule.failed), MAX_MESSAGE) }),
      ...(rule.chain && { chain: rule.chain.map((link) => bound(clean(link), MAX_SHORT)) }),
    })),
    ...(decision.dryRun && { dryRun: decision.dryRun }),
    ...(decision.challenge && { challenge: decision.challenge }),
    ...(decision.detail !== undefined && { detail: bound(clean(decision.detail), MAX_DETAIL) }),
  };
}

export function bound(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
