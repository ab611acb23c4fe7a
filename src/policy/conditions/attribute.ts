// `attribute: { name: resource.properties.ownerID, equals: { attribute: subject.properties.email } }`:
// compares an attribute of the question with a constant or with another attribute. Attributes:
//   subject.id | subject.type | subject.properties.<path>    (properties: the subject directory)
//   resource.type | resource.id | resource.properties.<path>
//   action.name | action.properties.<path>
//   context.<path>
// For an HTTP request the subject is the authenticated caller, the resource { type: route, id:
// the normalized path }, the action the method, and there are no resource/action properties or
// context (referring to them in an HTTP rule is a load error). A missing attribute or a value of
// the wrong type makes the condition fail with the reason in the trace; it never throws and never
// holds by accident (only `exists: false` holds for a missing attribute).
import type { JsonValue } from '../../access/types.js';
import type { CompileContext, Condition, ConditionResult, EvaluationContext } from './types.js';

type Scalar = string | number | boolean | null;

export interface AttributeRefSpec {
  attribute: string;
}

export type AttributeOperand = Scalar | AttributeRefSpec;

export interface AttributeSpec {
  /** The attribute compared, e.g. `resource.properties.ownerID`. */
  name: string;
  equals?: AttributeOperand;
  notEquals?: AttributeOperand;
  /** One of these constants, or an element of the array another attribute holds. */
  in?: Scalar[] | AttributeRefSpec;
  /** The attribute (an array, or a string) contains the operand (an element, or a substring). */
  contains?: AttributeOperand;
  exists?: boolean;
  lessThan?: number | AttributeRefSpec;
  greaterThan?: number | AttributeRefSpec;
}

export const ATTRIBUTE_OPERATORS = ['equals', 'notEquals', 'in', 'contains', 'exists', 'lessThan', 'greaterThan'] as const;
type Operator = (typeof ATTRIBUTE_OPERATORS)[number];

const SEGMENT = /^[A-Za-z0-9_$@:-]+$/;

/** A parsed attribute reference. `path`: below `properties` (or `context`). */
export interface AttributeRef {
  readonly text: string;
  readonly root: 'subject' | 'resource' | 'action' | 'context';
  readonly field: 'id' | 'type' | 'name' | 'properties' | 'context';
  readonly path: readonly string[];
}

const FIELDS: Record<AttributeRef['root'], readonly AttributeRef['field'][]> = {
  subject: ['id', 'type', 'properties'],
  resource: ['type', 'id', 'properties'],
  action: ['name', 'properties'],
  context: [],
};

/** The reference, or why `text` is not one. */
export function parseAttributeRef(text: string): AttributeRef | string {
  const parts = text.split('.');
  const [root, ...rest] = parts;
  if (!parts.every((part) => SEGMENT.test(part))) return `"${text}" is not a dotted attribute name (letters, digits, "_", "$", "@", ":", "-" between dots)`;
  if (root === 'context') {
    if (rest.length === 0) return `"${text}": name a key of the context, e.g. context.ip`;
    return { text, root, field: 'context', path: rest };
  }
  if (root !== 'subject' && root !== 'resource' && root !== 'action') {
    return `"${text}": an attribute starts with subject, resource, action or context`;
  }
  const [field, ...path] = rest;
  const fields = FIELDS[root];
  if (field === undefined || !(fields as readonly string[]).includes(field)) {
    return `"${text}": ${root} has ${fields.map((name) => (name === 'properties' ? `${root}.properties.<name>` : `${root}.${name}`)).join(', ')}`;
  }
  if (field === 'properties' && path.length === 0) return `"${text}": name a property, e.g. ${root}.properties.owner`;
  if (field !== 'properties' && path.length > 0) return `"${text}": ${root}.${field} is a plain value, with nothing below it`;
  return { text, root, field: field as AttributeRef['field'], path };
}

type Resolved = { readonly found: true; readonly value: JsonValue } | { readonly found: false; readonly why: string };

export function attributeCondition(spec: AttributeSpec, context: CompileContext): Condition | undefined {
  const given = ATTRIBUTE_OPERATORS.filter((operator) => spec[operator] !== undefined);
  if (given.length !== 1) {
    context.issue('invalid_value', given.length > 1 ? [given[1]!] : [], `use exactly one of ${ATTRIBUTE_OPERATORS.join(', ')}`);
    return undefined;
  }
  const operator = given[0]!;
  const subjectType = context.relationSchema.subjectType;
  const subject = compileRef(spec.name, ['name'], context);
  const operandSpec = spec[operator] as AttributeOperand | Scalar[] | boolean;
  const operand = isRef(operandSpec) ? compileRef(operandSpec.attribute, [operator, 'attribute'], context) : operandSpec;
  if (subject === undefined || operand === undefined) return undefined;
  const refs = [subject, ...(isParsedRef(operand) ? [operand] : [])];
  const description = operator === 'exists' ? `attribute ${subject.text} ${operand ? 'exists' : 'is absent'}` : `attribute ${subject.text} ${operator} ${show(operand)}`;

  return {
    kind: 'attribute',
    category: 'plain',
    description,
    needsIdentity: refs.some((ref) => ref.root === 'subject'),
    ...(refs.some((ref) => ref.root === 'subject' && ref.field === 'properties') && { reads: { directory: true } }),
    async evaluate(evaluation: EvaluationContext): Promise<ConditionResult> {
      const left = await resolve(subject, evaluation, subjectType);
      if (operator === 'exists') {
        return left.found === operand ? { ok: true } : { ok: false, detail: left.found ? `attribute ${subject.text} exists` : `attribute ${subject.text} is missing (${left.why})` };
      }
      if (!left.found) return { ok: false, detail: `attribute ${subject.text} is missing (${left.why})` };
      const right: Resolved = isParsedRef(operand) ? await resolve(operand, evaluation, subjectType) : { found: true, value: operand as JsonValue };
      if (!right.found) return { ok: false, detail: `attribute ${(operand as AttributeRef).text} is missing (${right.why})` };
      const verdict = compare(operator, left.value, right.value);
      if (verdict === true) return { ok: true };
      const against = isParsedRef(operand) ? `${operand.text} (${preview(right.value)})` : preview(right.value);
      if (verdict === false) return { ok: false, detail: `attribute ${subject.text} (${preview(left.value)}) does not satisfy ${operator} ${against}` };
      return { ok: false, detail: `attribute ${subject.text} (${preview(left.value)}) cannot be compared: ${verdict}` };
    },
  };
}

function compileRef(text: string, at: readonly (string | number)[], context: CompileContext): AttributeRef | undefined {
  const ref = parseAttributeRef(text);
  if (typeof ref === 'string') {
    context.issue('invalid_value', at, ref);
    return undefined;
  }
  if (context.ruleKind === 'http' && (ref.root === 'context' || (ref.field === 'properties' && ref.root !== 'subject'))) {
    context.issue('invalid_value', at, `"${text}": HTTP requests have no ${ref.root === 'context' ? 'context' : `${ref.root} properties`}; only access rules (match.actions/resources) can use it`);
    return undefined;
  }
  return ref;
}

function isRef(value: unknown): value is AttributeRefSpec {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'attribute' in value;
}

function isParsedRef(value: unknown): value is AttributeRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'root' in value;
}

function show(operand: unknown): string {
  return isParsedRef(operand) ? operand.text : JSON.stringify(operand);
}

/** true, false, or why the values cannot be compared by this operator (a type mismatch). */
function compare(operator: Exclude<Operator, 'exists'>, left: JsonValue, right: JsonValue): boolean | string {
  switch (operator) {
    case 'equals':
      return jsonEqual(left, right);
    case 'notEquals':
      return !jsonEqual(left, right);
    case 'in':
      if (!Array.isArray(right)) return `in needs a list, the operand is ${typeOf(right)}`;
      return (right as readonly JsonValue[]).some((candidate) => jsonEqual(left, candidate));
    case 'contains':
      if (Array.isArray(left)) return (left as readonly JsonValue[]).some((element) => jsonEqual(element, right));
      if (typeof left === 'string' && typeof right === 'string') return left.includes(right);
      return `contains needs a list (or a string and a string), got ${typeOf(left)} and ${typeOf(right)}`;
    case 'lessThan':
    case 'greaterThan':
      if (typeof left !== 'number' || typeof right !== 'number') return `${operator} needs two numbers, got ${typeOf(left)} and ${typeOf(right)}`;
      return operator === 'lessThan' ? left < right : left > right;
  }
}

/** Strict JSON equality: no coercion (42 is not "42"); arrays and objects by content. */
function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return (a as readonly JsonValue[]).every((item, index) => jsonEqual(item, (b as readonly JsonValue[])[index]!));
  }
  const objectA = a as { readonly [key: string]: JsonValue };
  const objectB = b as { readonly [key: string]: JsonValue };
  const keys = Object.keys(objectA);
  return keys.length === Object.keys(objectB).length && keys.every((key) => Object.hasOwn(objectB, key) && jsonEqual(objectA[key]!, objectB[key]!));
}

function typeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A value for a trace line: JSON, cut short. */
function preview(value: JsonValue): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The attribute's value in this decision, or why there is none. Never throws (a failed directory read does: a deny). */
async function resolve(ref: AttributeRef, context: EvaluationContext, subjectType: string): Promise<Resolved> {
  const { access, identity, request } = context;
  switch (ref.root) {
    case 'subject': {
      const id = access ? access.subject.id : identity.authenticated ? identity.subject : undefined;
      if (id === undefined) return { found: false, why: 'the caller is anonymous' };
      if (ref.field === 'id') return { found: true, value: id };
      if (ref.field === 'type') return { found: true, value: access ? access.subject.type : subjectType };
      if (!context.subjectProperties) return { found: false, why: 'the subject directory was not read' };
      const properties = await context.subjectProperties();
      if (properties === undefined) return { found: false, why: `subject ${id} has no properties in the directory` };
      return walk(properties, ref.path);
    }
    case 'resource':
      if (ref.field === 'type') return { found: true, value: access ? access.resource.type : 'route' };
      if (ref.field === 'id') return { found: true, value: access ? access.resource.id : request.path };
      return walk(access?.resource.properties, ref.path);
    case 'action':
      if (ref.field === 'name') return { found: true, value: access ? access.action.name : request.method };
      return walk(access?.action.properties, ref.path);
    case 'context':
      return walk(access?.context, ref.path);
  }
}

function walk(root: JsonValue | undefined, path: readonly string[]): Resolved {
  let value: JsonValue | undefined = root;
  for (const [index, key] of path.entries()) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return { found: false, why: index === 0 ? `no "${key}"` : `no "${path.slice(0, index + 1).join('.')}"` };
    }
    value = (value as { readonly [key: string]: JsonValue })[key];
  }
  return value === undefined ? { found: false, why: 'no value' } : { found: true, value };
}
