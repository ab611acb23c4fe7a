// Reads AuthZEN request bodies (Authorization API 1.0) into typed questions. Every problem is a
// BadRequest whose message names the field (`evaluations[2].resource.id`), answered 400; nothing
// here throws anything else for any input. Unknown keys are ignored: the spec lets later
// revisions add parameters, and a PEP written for them must still get answers.
import { isJsonObject as isPlainObject } from '../json-object.js';
import type { AccessAction, AccessQuestion, AccessResource, AccessSubject, JsonObject, JsonValue } from '../access/types.js';

/** A request the PDP cannot read: 400 with this message. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

/** Longest type, id or action name accepted: ids are store keys and tuple parts, never unbounded. */
export const MAX_NAME_LENGTH = 1024;
/** Deepest nesting of `properties` and `context` values: conditions walk them. */
export const MAX_JSON_DEPTH = 32;

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

export function parseJsonBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequest(`the body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) throw new BadRequest(`the body must be a JSON object, not ${describe(value)}`);
  return value;
}

/** POST /access/v1/evaluation: subject, action and resource are required, context is optional. */
export function readEvaluation(body: Record<string, unknown>): AccessQuestion {
  return question(body.subject, body.action, body.resource, body.context, '');
}

export interface EvaluationsRequest {
  /** Undefined when `evaluations` is absent or empty: the request is a single evaluation (spec: backwards-compatible). */
  readonly items: readonly AccessQuestion[] | undefined;
  readonly single: AccessQuestion | undefined;
  readonly semantic: EvaluationsSemantic;
}

/**
 * POST /access/v1/evaluations. Top-level subject, action, resource and context are defaults: an
 * item's own value replaces the default whole (the spec's "takes precedence"), never merged.
 */
export function readEvaluations(body: Record<string, unknown>, maxBatch: number): EvaluationsRequest {
  const semantic = readSemantic(body.options);
  const evaluations = body.evaluations;
  if (evaluations === undefined || (Array.isArray(evaluations) && evaluations.length === 0)) {
    return { items: undefined, single: readEvaluation(body), semantic };
  }
  if (!Array.isArray(evaluations)) throw new BadRequest(`evaluations must be an array, not ${describe(evaluations)}`);
  if (evaluations.length > maxBatch) throw new BadRequest(`evaluations has ${evaluations.length} items; at most ${maxBatch} are accepted per request`);
  // A top-level default is read once, when the first item takes it (its problems are named as `subject`,
  // not per item), and shared by the items that take it.
  const defaults = {
    subject: lazy(() => readSubject(body.subject, 'subject')),
    action: lazy(() => readAction(body.action, 'action')),
    resource: lazy(() => readResource(body.resource, 'resource')),
    context: lazy(() => optionalContext(body.context, 'context')),
  };
  const items = evaluations.map((item: unknown, index): AccessQuestion => {
    if (!isPlainObject(item)) throw new BadRequest(`evaluations[${index}] must be an object, not ${describe(item)}`);
    // The item's own value, else the top-level default; one of them is required (but context).
    const own = <T>(key: 'subject' | 'action' | 'resource', read: (value: unknown, field: string) => T, fallback: () => T): T => {
      if (item[key] !== undefined) return read(item[key], `evaluations[${index}].${key}`);
      if (body[key] !== undefined) return fallback();
      throw new BadRequest(`evaluations[${index}].${key} is required (neither in the item nor as a top-level default)`);
    };
    const subject = own('subject', readSubject, defaults.subject);
    const action = own('action', readAction, defaults.action);
    const resource = own('resource', readResource, defaults.resource);
    const context = item.context !== undefined ? optionalContext(item.context, `evaluations[${index}].context`) : defaults.context();
    return { subject, action, resource, ...context };
  });
  return { items, single: undefined, semantic };
}

/** `read()` once, on first use. */
function lazy<T>(read: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = read();
      done = true;
    }
    return value;
  };
}

function readSemantic(options: unknown): EvaluationsSemantic {
  if (options === undefined) return 'execute_all';
  if (!isPlainObject(options)) throw new BadRequest(`options must be an object, not ${describe(options)}`);
  const semantic = options.evaluations_semantic;
  if (semantic === undefined) return 'execute_all';
  if (typeof semantic !== 'string' || !(EVALUATIONS_SEMANTICS as readonly string[]).includes(semantic)) {
    throw new BadRequest(`options.evaluations_semantic must be one of ${EVALUATIONS_SEMANTICS.join(', ')}, not ${describe(semantic)}`);
  }
  return semantic as EvaluationsSemantic;
}

export interface PageRequest {
  /** The opaque token of the previous page (`page.token`; draft 04's `page.next_token` is read too). */
  readonly token?: string;
  readonly limit?: number;
}

export interface SubjectSearch {
  readonly subjectType: string;
  readonly action: AccessAction;
  readonly resource: AccessResource;
  readonly context?: JsonObject;
  readonly page: PageRequest;
}

export interface ResourceSearch {
  readonly subject: AccessSubject;
  readonly action: AccessAction;
  readonly resourceType: string;
  readonly context?: JsonObject;
  readonly page: PageRequest;
}

export interface ActionSearch {
  readonly subject: AccessSubject;
  readonly resource: AccessResource;
  readonly context?: JsonObject;
  readonly page: PageRequest;
}

/** POST /access/v1/search/subject: the subject's type is required; its id, if sent, is ignored (spec). */
export function readSubjectSearch(body: Record<string, unknown>): SubjectSearch {
  return {
    subjectType: typeOnly(body.subject, 'subject'),
    action: readAction(body.action, 'action'),
    resource: readResource(body.resource, 'resource'),
    ...optionalContext(body.context, 'context'),
    page: readPage(body.page),
  };
}

/** POST /access/v1/search/resource: the resource's type is required; its id, if sent, is ignored (spec). */
export function readResourceSearch(body: Record<string, unknown>): ResourceSearch {
  return {
    subject: readSubject(body.subject, 'subject'),
    action: readAction(body.action, 'action'),
    resourceType: typeOnly(body.resource, 'resource'),
    ...optionalContext(body.context, 'context'),
    page: readPage(body.page),
  };
}

/** POST /access/v1/search/action: no action in the request. */
export function readActionSearch(body: Record<string, unknown>): ActionSearch {
  return {
    subject: readSubject(body.subject, 'subject'),
    resource: readResource(body.resource, 'resource'),
    ...optionalContext(body.context, 'context'),
    page: readPage(body.page),
  };
}

function readPage(page: unknown): PageRequest {
  if (page === undefined) return {};
  if (!isPlainObject(page)) throw new BadRequest(`page must be an object, not ${describe(page)}`);
  if (page.token !== undefined && page.next_token !== undefined && page.token !== page.next_token) {
    throw new BadRequest('page.token and page.next_token differ; send the previous page.next_token as page.token');
  }
  const tokenKey = page.token !== undefined ? 'token' : 'next_token';
  const token = page[tokenKey];
  if (token !== undefined && typeof token !== 'string') throw new BadRequest(`page.${tokenKey} must be a string, not ${describe(token)}`);
  const limit = page.limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
    throw new BadRequest(`page.limit must be a non-negative integer, not ${describe(limit)}`);
  }
  return { ...(token !== undefined && token !== '' && { token }), ...(limit !== undefined && { limit }) };
}

function question(subject: unknown, action: unknown, resource: unknown, context: unknown, at: string): AccessQuestion {
  return {
    subject: readSubject(subject, `${at}subject`),
    action: readAction(action, `${at}action`),
    resource: readResource(resource, `${at}resource`),
    ...optionalContext(context, `${at}context`),
  };
}

function entity(value: unknown, field: string, missingNote = ''): Record<string, unknown> {
  if (value === undefined) throw new BadRequest(`${field} is required${missingNote}`);
  if (!isPlainObject(value)) throw new BadRequest(`${field} must be an object, not ${describe(value)}`);
  return value;
}

function readSubject(value: unknown, field: string, missingNote = ''): AccessSubject {
  const subject = entity(value, field, missingNote);
  return { type: name(subject.type, `${field}.type`), id: name(subject.id, `${field}.id`), ...properties(subject.properties, `${field}.properties`) };
}

function readResource(value: unknown, field: string, missingNote = ''): AccessResource {
  const resource = entity(value, field, missingNote);
  return { type: name(resource.type, `${field}.type`), id: name(resource.id, `${field}.id`), ...properties(resource.properties, `${field}.properties`) };
}

function readAction(value: unknown, field: string, missingNote = ''): AccessAction {
  const action = entity(value, field, missingNote);
  return { name: name(action.name, `${field}.name`), ...properties(action.properties, `${field}.properties`) };
}

function typeOnly(value: unknown, field: string): string {
  return name(entity(value, field).type, `${field}.type`);
}

function name(value: unknown, field: string): string {
  if (value === undefined) throw new BadRequest(`${field} is required`);
  if (typeof value !== 'string') throw new BadRequest(`${field} must be a string, not ${describe(value)}`);
  if (value === '') throw new BadRequest(`${field} must not be empty`);
  if (value.length > MAX_NAME_LENGTH) throw new BadRequest(`${field} is longer than ${MAX_NAME_LENGTH} characters`);
  return value;
}

function properties(value: unknown, field: string): { properties?: JsonObject } {
  if (value === undefined) return {};
  return { properties: jsonObject(value, field) };
}

function optionalContext(value: unknown, field: string): { context?: JsonObject } {
  if (value === undefined) return {};
  return { context: jsonObject(value, field) };
}

function jsonObject(value: unknown, field: string): JsonObject {
  if (!isPlainObject(value)) throw new BadRequest(`${field} must be an object, not ${describe(value)}`);
  checkDepth(value, field, 1);
  return value as JsonObject;
}

function checkDepth(value: unknown, field: string, depth: number): void {
  if (depth > MAX_JSON_DEPTH) throw new BadRequest(`${field} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) value.forEach((item: JsonValue) => checkDepth(item, field, depth + 1));
  else if (isPlainObject(value)) for (const item of Object.values(value)) checkDepth(item, field, depth + 1);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
