// What the explorer keeps of an access decision (AuthZEN: may this subject take this action on
// this resource?): the subject's type and id (the id masked when the settings ask), the action,
// the resource's type and id, and what was decided and why. Never the properties or the context
// the caller sent, nor the subject directory's properties: a condition's message that quotes one
// of their values (`attribute resource.properties.owner ("...") does not satisfy ...`) keeps the
// attribute's name and loses the value. Every string is bounded, as for Check records.
import type { AccessQuestion } from '../access/types.js';
import type { Decision } from '../pipeline/types.js';
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import type { Challenge, RuleTrace } from '../policy/evaluate.js';
import type { SubjectMasker } from './mask.js';
import { bound, MAX_PATH, MAX_SHORT, outcomeFields, type RecordOptions } from './record.js';

export interface AccessRecord {
  readonly kind: 'access';
  readonly id: string;
  /** ISO 8601, when the decision was made. */
  readonly time: string;
  /** The service whose policy answered, when one did. */
  readonly service?: string;
  readonly subjectType: string;
  /** The subject id, or its mask. */
  readonly subject: string;
  readonly action: string;
  readonly resourceType: string;
  /** The resource id (for the route special case, the path without its query string). */
  readonly resourceId: string;
  /** The normalized path of a route question. */
  readonly path?: string;
  readonly roles: readonly string[];
  readonly decision: 'allow' | 'deny' | 'dry_run_deny';
  readonly status: number;
  readonly reason: string;
  readonly rule?: string;
  readonly trace: readonly RuleTrace[];
  readonly dryRun?: { readonly reason: string; readonly ruleId?: string };
  readonly challenge?: Challenge;
  readonly detail?: string;
  readonly latencyMs: number;
  readonly requestId?: string;
  readonly policyVersion?: string;
}

export function toAccessRecord(decision: Decision, question: AccessQuestion, options: RecordOptions = {}): AccessRecord {
  const { subject, action, resource } = question;
  const { masker } = options;
  const clean = cleaner(String(subject.id), masker);
  const route = resource.type === ROUTE_RESOURCE_TYPE;
  return {
    kind: 'access',
    id: decision.id,
    time: new Date(options.now?.() ?? Date.now()).toISOString(),
    ...(decision.service !== undefined && { service: decision.service }),
    subjectType: bound(String(subject.type), MAX_SHORT),
    subject: bound(masker ? masker.mask(String(subject.id)) : String(subject.id), MAX_SHORT),
    action: bound(String(action.name), MAX_SHORT),
    resourceType: bound(String(resource.type), MAX_SHORT),
    // A route question's id is a request path: its query string can carry a token.
    resourceId: bound(route ? String(resource.id).split(/[?#]/, 1)[0]! : String(resource.id), MAX_PATH),
    ...(decision.path !== undefined && { path: bound(decision.path, MAX_PATH) }),
    ...outcomeFields(decision, clean),
    latencyMs: Number(decision.durationMs.toFixed(3)),
    ...(question.requestId !== undefined && { requestId: bound(question.requestId, MAX_SHORT) }),
    ...(decision.policyVersion !== undefined && { policyVersion: decision.policyVersion }),
  };
}

/** Attribute values hidden, and the subject masked when the settings ask. */
function cleaner(subject: string, masker: SubjectMasker | undefined): (text: string) => string {
  const shown = masker?.mask(subject);
  return (text) => {
    const out = hideAttributeValues(text);
    return shown !== undefined && subject !== '' && out.includes(subject) ? out.split(subject).join(shown) : out;
  };
}

export const HIDDEN_VALUE = '[value hidden]';

/** A properties or context attribute named in a condition's message, followed by its value in parentheses. */
const VALUE_ATTRIBUTE = /(?:subject|resource|action)\.properties\.[^\s()]+ \(|context\.[^\s()]+ \(/g;
/** The attribute condition previews a value as its JSON, cut to 77 characters and "..." past 80. */
const PREVIEW_MAX = 80;

/**
 * Replaces the value previews that follow properties and context attributes in a message with
 * HIDDEN_VALUE. A preview is the value's JSON (or its first 77 characters and "..."), so its end is
 * the first ")" that closes a whole JSON text (or the 80-character cut): a ")" inside a string
 * value does not end it early. A preview whose end cannot be found hides the rest of the message.
 */
export function hideAttributeValues(text: string): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(VALUE_ATTRIBUTE)) {
    const start = match.index + match[0].length;
    if (start < from) continue;
    const end = previewEnd(text, start);
    out += text.slice(from, start) + HIDDEN_VALUE;
    from = end;
  }
  return out + text.slice(from);
}

/** Where the preview starting at `start` ends (the index of its closing ")"), or the message's end. */
function previewEnd(text: string, start: number): number {
  const limit = Math.min(text.length, start + PREVIEW_MAX + 1);
  for (let at = text.indexOf(')', start); at >= 0 && at < limit; at = text.indexOf(')', at + 1)) {
    const candidate = text.slice(start, at);
    if ((candidate.length === PREVIEW_MAX && candidate.endsWith('...')) || isJson(candidate)) return at;
  }
  return text.length;
}

function isJson(text: string): boolean {
  if (text === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
