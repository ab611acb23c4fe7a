// `keycard tuples add | remove | list | check`: relation tuples in the store, validated against the
// relation schema of the settings file (a tuple the schema cannot use is an error, not a no-op).
import { DenyError } from '../../errors.js';
import { relationChecker } from '../../policy/relations/resolver.js';
import type { RelationSchema } from '../../policy/relations/schema.js';
import { undeclaredRelations } from '../../state/seed-tuples.js';
import type { RelationTuple, TupleFilter } from '../../state/store.js';
import { formatTuple, parseObjectRef, parseSubjectRef, parseTuple, RELATION_NAME } from '../../state/tuple.js';
import { applyChange, type ChangeResult } from './change.js';
import { StateCommandError, type StateContext } from './context.js';

export interface TupleCheck extends RelationTuple {
  /** The tuple asked about, canonical. */
  readonly tuple: string;
  /** Whether the subject has the relation, directly or through usersets and rewrites. */
  readonly has: boolean;
  /** When it has: from the subject to the relation, e.g. ["user:olga", "group:staff#member", "shop:9#owner", "order:43#manager", "order:43#viewer"]. */
  readonly chain?: readonly string[];
}

export async function addTuple(context: StateContext, text: string): Promise<ChangeResult> {
  const tuple = parseValidTuple(context.relationSchema, text);
  const exists = await tupleExists(context, tuple);
  return applyChange(context, {
    action: 'tuples.add',
    target: tupleTarget(tuple),
    changed: !exists,
    message: exists ? `${formatTuple(tuple)} already exists` : `added ${formatTuple(tuple)}`,
    write: () => context.store.addTuple(tuple),
  });
}

/** A tuple the schema no longer declares can still be removed, when the store holds it. */
export async function removeTuple(context: StateContext, text: string): Promise<ChangeResult> {
  const tuple = parseTupleText(text);
  const exists = await tupleExists(context, tuple);
  if (!exists) {
    const problem = schemaProblem(context.relationSchema, tuple);
    if (problem !== undefined) throw new StateCommandError(`tuple ${formatTuple(tuple)}: ${problem}`);
  }
  return applyChange(context, {
    action: 'tuples.remove',
    target: tupleTarget(tuple),
    changed: exists,
    message: exists ? `removed ${formatTuple(tuple)}` : `${formatTuple(tuple)} does not exist: nothing to remove`,
    write: () => context.store.removeTuple(tuple),
  });
}

/** The tuples that match every filter given, sorted by their text. */
export async function listTuples(context: StateContext, filter: TupleFilter = {}): Promise<RelationTuple[]> {
  checkFilter(context.relationSchema, filter);
  const tuples = [...(await context.store.listTuples(filter))];
  return tuples.sort((a, b) => formatTuple(a).localeCompare(formatTuple(b)));
}

/** Does the tuple's subject have its relation on its object, as a policy's `relation:` condition would find? */
export async function checkTuple(context: StateContext, text: string): Promise<TupleCheck> {
  const tuple = parseValidTuple(context.relationSchema, text);
  const checker = relationChecker(context.store, context.relationSchema);
  try {
    const answer = await checker.check(tuple.object, tuple.relation, tuple.subject);
    if (answer.ok) return { ...tuple, tuple: formatTuple(tuple), has: true, chain: answer.chain ?? [] };
    if (answer.detail !== undefined) throw new StateCommandError(`tuple ${formatTuple(tuple)}: ${answer.detail}`);
    return { ...tuple, tuple: formatTuple(tuple), has: false };
  } catch (error) {
    // Out of budget (relation_limit_reached) or the store failed: neither yes nor no.
    if (error instanceof DenyError) throw new StateCommandError(`cannot decide ${formatTuple(tuple)}: ${error.reason}: ${error.detail ?? ''}`);
    throw error;
  }
}

export function tupleTarget(tuple: RelationTuple): Record<string, string> {
  return { object: tuple.object, relation: tuple.relation, subject: tuple.subject };
}

function parseTupleText(text: string): RelationTuple {
  const parsed = parseTuple(text);
  if (!parsed.ok) throw new StateCommandError(`tuple: ${parsed.problem} (the form is TYPE:ID#RELATION@SUBJECT, e.g. order:42#owner@user:alice)`);
  return parsed.value;
}

function parseValidTuple(schema: RelationSchema | undefined, text: string): RelationTuple {
  const tuple = parseTupleText(text);
  const problem = schemaProblem(schema, tuple);
  if (problem !== undefined) throw new StateCommandError(`tuple ${formatTuple(tuple)}: ${problem}`);
  return tuple;
}

/** Why the schema cannot use the tuple: an undeclared relation, or a subject of a type nothing can match. */
function schemaProblem(schema: RelationSchema | undefined, tuple: RelationTuple): string | undefined {
  if (!schema) return 'the settings file has no "relations" section, so no relation is declared';
  const [undeclared] = undeclaredRelations(tuple, schema);
  if (undeclared !== undefined) return `relation "${undeclared}" is not declared in the relation schema; ${declaredHint(schema, undeclared.slice(0, undeclared.indexOf('#')))}`;
  const subject = parseSubjectRef(tuple.subject);
  if (subject.ok && subject.value.relation === undefined && subject.value.type !== schema.subjectType && schema.relationsOf(subject.value.type) === undefined) {
    return `subject type "${subject.value.type}" is neither the callers' type "${schema.subjectType}" nor a declared type (${schema.typeNames().join(', ')}), so no check can reach it`;
  }
  return undefined;
}

function declaredHint(schema: RelationSchema, type: string): string {
  const relations = schema.relationsOf(type);
  return relations ? `${type} has ${relations.join(', ')}` : `type "${type}" is not declared (declared: ${schema.typeNames().join(', ')})`;
}

function checkFilter(schema: RelationSchema | undefined, { object, relation, subject }: TupleFilter): void {
  let objectType: string | undefined;
  if (object !== undefined) {
    const parsed = parseObjectRef(object);
    if (!parsed.ok) throw new StateCommandError(`--object: ${parsed.problem}`);
    objectType = parsed.value.type;
  }
  if (relation !== undefined) {
    if (!RELATION_NAME.test(relation)) throw new StateCommandError(`--relation "${relation}" is not a relation name`);
    const declared = objectType === undefined ? schema?.typeNames().some((type) => schema.hasRelation(type, relation)) : schema?.hasRelation(objectType, relation);
    if (!declared) {
      const hint = !schema ? 'the settings file has no "relations" section' : objectType === undefined ? 'no type declares it' : declaredHint(schema, objectType);
      throw new StateCommandError(`--relation "${relation}" is not declared in the relation schema; ${hint}`);
    }
  }
  if (subject !== undefined) {
    const parsed = parseSubjectRef(subject);
    if (!parsed.ok) throw new StateCommandError(`--subject: ${parsed.problem}`);
  }
}

async function tupleExists(context: StateContext, tuple: RelationTuple): Promise<boolean> {
  return (await context.store.listTuples(tuple)).length > 0;
}
