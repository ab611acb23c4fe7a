// What the explorer keeps of an access decision (AuthZEN: may this subject take this action on
// this resource?): the subject's type and id (the id masked when the settings ask), the action,
// the resource's type and id, and what was decided and why. Never the properties or the context
// the caller sent, nor the subject directory's properties: a condition's message that quotes one
// of their values (`attribute resource.properties.owner ("...") does not satisfy ...`) keeps the
// attribute's name and loses the value. Every string is bounded, as for Check records.
import type { AccessQuestion } from '../access/types.js';
import type { Decision } from '../pipeline/types.js';
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import type { SubjectMasker } from './mask.js';
import { bound, MAX_PATH, MAX_SHORT, outcomeFields, type RecordOptions, type RecordOutcome } from './record.js';
import { hideAttributeValues } from '../access/hide-values.js';

export interface AccessRecord extends RecordOutcome {
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
