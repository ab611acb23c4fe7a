// The seed file: initial state for the memory store (and a bootstrap for others).
//   roleBindings:
//     - { subject: alice, roles: [support] }                   # global
//     - { subject: bob, roles: [finance], service: orders }    # only for orders
//   tuples:                                                     # relation tuples (ReBAC)
//     - order:42#owner@user:alice
//   subjects:                                                   # the subject directory
//     - { id: alice, properties: { email: alice@example.com, department: sales } }
import { z } from 'zod';
import { loadYamlFile } from '../config/yaml-file.js';
import type { RelationSchemaView } from '../policy/conditions/types.js';
import { checkSeedTuples, seedTupleSchema } from './seed-tuples.js';
import type { RelationTuple, RoleBinding } from './store.js';
import type { JsonObject } from '../access/types.js';
import { subjectIdProblem, subjectPropertiesProblem, type SubjectRecord } from './subject-records.js';

const token = z.string().regex(/^[^\s#@]+$/, 'no whitespace, "#" or "@"');

/** The seed file's schema; `keycard test` files reuse it for their `state:`. */
export const seedSchema = z.strictObject({
  roleBindings: z
    .array(z.strictObject({ subject: token, roles: z.array(token).min(1), service: token.optional() }))
    .default([]),
  tuples: z.array(seedTupleSchema).default([]),
  subjects: z
    .array(
      z.strictObject({
        id: z.string().superRefine((id, ctx) => {
          const problem = subjectIdProblem(id);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
        properties: z.record(z.string(), z.unknown()).superRefine((properties, ctx) => {
          const problem = subjectPropertiesProblem(properties);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
      }),
    )
    .superRefine((subjects, ctx) => {
      const seen = new Set<string>();
      subjects.forEach(({ id }, index) => {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `subject "${id}" is listed twice` });
        seen.add(id);
      });
    })
    .default([]),
});

export interface Seed {
  readonly roleBindings: readonly RoleBinding[];
  readonly tuples?: readonly RelationTuple[];
  readonly subjects?: readonly SubjectRecord[];
}

/** `relations`: the settings file's relation schema; every tuple must name declared relations. */
export function loadSeedFile(file: string, relations?: RelationSchemaView): Seed {
  const { source, data } = loadYamlFile(file, seedSchema);
  checkSeedTuples(source, data.tuples, relations);
  return seedFromData(data);
}

/** A validated seed (file or test `state:`) as store content. */
export function seedFromData(data: z.infer<typeof seedSchema>): Seed {
  return {
    roleBindings: data.roleBindings.flatMap(({ subject, roles, service }) =>
      roles.map((role) => (service === undefined ? { subject, role } : { subject, role, service })),
    ),
    tuples: data.tuples,
    ...(data.subjects.length > 0 && { subjects: data.subjects.map(({ id, properties }) => ({ id, properties: properties as JsonObject })) }),
  };
}
