// The YAML form of a service policy file. See README "Policy reference".
import { z } from 'zod';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

const name = (what: string) =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, `${what} may use letters, digits, ".", ":", "_" and "-"`);

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]) as z.infer<T>[]);

/** One `when:` entry. Exactly one key per entry, so every entry reads as a single condition. */
export const conditionSchema = z
  .strictObject({
    role: oneOrMany(name('a role')).optional(),
  })
  .refine((entry) => Object.keys(entry).length === 1, { message: 'each condition has exactly one key, e.g. {role: admin}' });

export type ConditionSpec = z.infer<typeof conditionSchema>;

export const ruleSchema = z.strictObject({
  id: name('a rule id'),
  description: z.string().optional(),
  effect: z.enum(['allow', 'deny']),
  match: z
    .strictObject({
      methods: z
        .array(z.string().transform((m) => m.toUpperCase()).pipe(z.enum(HTTP_METHODS)))
        .min(1)
        .optional(),
      paths: z.array(z.string().min(1)).min(1).optional(),
    })
    .default({}),
  /** Allow callers without a credential. Only for `effect: allow` without conditions on the caller. */
  anonymous: z.boolean().default(false),
  when: z.array(conditionSchema).default([]),
});

export type RuleSpec = z.infer<typeof ruleSchema>;

export const policySchema = z.strictObject({
  service: name('a service name'),
  description: z.string().optional(),
  hosts: z.array(z.string().min(1)).default([]),
  authentication: z
    .strictObject({ issuers: z.array(z.string().min(1)).min(1).optional() })
    .default({}),
  rules: z.array(ruleSchema).min(1),
  forward: z.strictObject({ identityHeaders: z.boolean().default(true) }).default({ identityHeaders: true }),
});

export type PolicySpec = z.infer<typeof policySchema>;
