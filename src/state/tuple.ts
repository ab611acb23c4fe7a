// Relation tuples (Zanzibar): `object_type:object_id#relation@subject`. The subject is an object
// `type:id` (alice is `user:alice`) or a userset `type:id#relation`: everyone who has that
// relation on that object.
//   order:42#owner@user:alice        group:eng#member@user:bob        doc:1#viewer@group:eng#member
// Ids may contain ":" and "@" (`user:alice@example.com`) but never "#", whitespace or control
// characters; the first "#" ends the object and the first "@" after it ends the relation.
import type { RelationTuple } from './store.js';

/** Type and relation names. */
export const RELATION_NAME = /^[a-z][a-z0-9_]*$/;
export const NAME_RULE = 'lowercase letters, digits and "_", starting with a letter';
export const MAX_ID_LENGTH = 1024;

// eslint-disable-next-line no-control-regex
const BAD_ID_CHAR = /[\s#\x00-\x1f\x7f]/;

export interface ObjectRef {
  readonly type: string;
  readonly id: string;
}

export interface SubjectRef extends ObjectRef {
  /** Set for a userset subject (`group:eng#member`). */
  readonly relation?: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

/** Parses `type:id`; `what` names the part in messages ("object", "subject"). */
export function parseObjectRef(text: string, what = 'object'): Parsed<ObjectRef> {
  const colon = text.indexOf(':');
  if (colon < 0) return fail(`${what} "${text}" is not TYPE:ID`);
  const type = text.slice(0, colon);
  const id = text.slice(colon + 1);
  if (type === '') return fail(`${what} "${text}" has an empty type`);
  if (!RELATION_NAME.test(type)) return fail(`${what} type "${type}" must be ${NAME_RULE}`);
  if (id === '') return fail(`${what} "${text}" has an empty id`);
  if (id.length > MAX_ID_LENGTH) return fail(`${what} id is longer than ${MAX_ID_LENGTH} characters`);
  if (BAD_ID_CHAR.test(id)) return fail(`${what} id "${id}" contains "#", whitespace or a control character`);
  return ok({ type, id });
}

/** Parses a subject: `type:id` or the userset `type:id#relation`. */
export function parseSubjectRef(text: string): Parsed<SubjectRef> {
  const hash = text.indexOf('#');
  const object = parseObjectRef(hash < 0 ? text : text.slice(0, hash), 'subject');
  if (!object.ok || hash < 0) return object;
  const relation = checkRelationName(text.slice(hash + 1), 'subject relation');
  return relation === undefined ? ok({ ...object.value, relation: text.slice(hash + 1) }) : fail(relation);
}

/** Parses `object_type:object_id#relation@subject`. */
export function parseTuple(text: string): Parsed<RelationTuple> {
  if (text.trim() === '') return fail('the tuple is empty');
  const hash = text.indexOf('#');
  if (hash < 0) return fail(`"${text}" has no "#RELATION@SUBJECT" part`);
  const object = parseObjectRef(text.slice(0, hash));
  if (!object.ok) return object;
  const rest = text.slice(hash + 1);
  const at = rest.indexOf('@');
  if (at < 0) return fail(`"${text}" has no "@SUBJECT" after the relation`);
  const relation = rest.slice(0, at);
  const relationProblem = checkRelationName(relation, 'relation');
  if (relationProblem !== undefined) return fail(relationProblem);
  const subjectText = rest.slice(at + 1);
  if (subjectText === '') return fail(`"${text}" has an empty subject`);
  const subject = parseSubjectRef(subjectText);
  if (!subject.ok) return subject;
  return ok({ object: formatObjectRef(object.value), relation, subject: subjectText });
}

/** The canonical text of a tuple, `object#relation@subject`. */
export function formatTuple(tuple: RelationTuple): string {
  return `${tuple.object}#${tuple.relation}@${tuple.subject}`;
}

export function formatObjectRef(ref: ObjectRef): string {
  return `${ref.type}:${ref.id}`;
}

export function formatSubjectRef(ref: SubjectRef): string {
  return ref.relation === undefined ? formatObjectRef(ref) : `${formatObjectRef(ref)}#${ref.relation}`;
}

/** Checks every part of an already structured tuple; returns the problem, or undefined when valid. */
export function tupleProblem(tuple: RelationTuple): string | undefined {
  const object = parseObjectRef(tuple.object);
  if (!object.ok) return object.problem;
  const relation = checkRelationName(tuple.relation, 'relation');
  if (relation !== undefined) return relation;
  const subject = parseSubjectRef(tuple.subject);
  return subject.ok ? undefined : subject.problem;
}

function checkRelationName(name: string, what: string): string | undefined {
  if (name === '') return `${what} is empty`;
  return RELATION_NAME.test(name) ? undefined : `${what} "${name}" must be ${NAME_RULE}`;
}
