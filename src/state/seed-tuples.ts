// Relation tuples in a seed file:
//   tuples:
//     - order:42#owner@user:alice
//     - doc:1#viewer@group:eng#member
// Syntax is checked by the schema (so errors are located like any other); that each tuple names
// declared relations is checked against the relation schema of the settings file.
import { z } from 'zod';
import type { YamlSource } from '../config/yaml-file.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { RelationSchemaView } from '../policy/conditions/types.js';
import type { RelationTuple } from './store.js';
import { parseObjectRef, parseSubjectRef, parseTuple } from './tuple.js';

export const seedTupleSchema = z.string().transform((text, ctx): RelationTuple => {
  const parsed = parseTuple(text);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.problem });
  return z.NEVER;
});

/** Every tuple whose relation (or userset subject's relation) the schema does not declare. */
export function checkSeedTuples(source: YamlSource, tuples: readonly RelationTuple[], relations: RelationSchemaView | undefined): void {
  const issues: ConfigIssue[] = [];
  const hint = relations ? '' : ' (the settings file has no "relations" section)';
  tuples.forEach((tuple, index) => {
    for (const name of undeclaredRelations(tuple, relations)) {
      issues.push(source.issue('unknown_relation', ['tuples', index], `relation "${name}" is not declared in the relation schema${hint}`));
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
}

/** The relations a tuple names (`type#relation`, its own and a userset subject's) that the schema does not declare. */
export function undeclaredRelations(tuple: RelationTuple, relations: RelationSchemaView | undefined): string[] {
  const object = parseObjectRef(tuple.object);
  const subject = parseSubjectRef(tuple.subject);
  return [
    object.ok && !relations?.hasRelation(object.value.type, tuple.relation) ? `${object.value.type}#${tuple.relation}` : undefined,
    subject.ok && subject.value.relation !== undefined && !relations?.hasRelation(subject.value.type, subject.value.relation)
      ? `${subject.value.type}#${subject.value.relation}`
      : undefined,
  ].filter((name) => name !== undefined);
}
