// The seed file: initial state for the memory store (and a bootstrap for others).
//   roleBindings:
//     - { subject: alice, roles: [support] }                   # global
//     - { subject: bob, roles: [finance], service: orders }    # only for orders
import { z } from 'zod';
import { loadYamlFile } from '../config/yaml-file.js';
import type { RoleBinding } from './store.js';

const token = z.string().regex(/^[^\s#@]+$/, 'no whitespace, "#" or "@"');

const seedSchema = z.strictObject({
  roleBindings: z
    .array(z.strictObject({ subject: token, roles: z.array(token).min(1), service: token.optional() }))
    .default([]),
});

export interface Seed {
  readonly roleBindings: readonly RoleBinding[];
}

export function loadSeedFile(file: string): Seed {
  const { data } = loadYamlFile(file, seedSchema);
  return {
    roleBindings: data.roleBindings.flatMap(({ subject, roles, service }) =>
      roles.map((role) => (service === undefined ? { subject, role } : { subject, role, service })),
    ),
  };
}
