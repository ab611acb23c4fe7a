// The YAML form of a service policy file. See README "Policy reference".
import { z } from 'zod';
import { policyDenyPageSchema } from '../config/deny-page-settings.js';
import { durationMs } from '../config/duration.js';
import { authenticationSchema } from './authentication-schema.js';
import { conditionSchema } from './conditions/schema.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

/** Rule ids, service and permission names (also `x-keycard-permission` in an API description). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** Action names and resource types of access rules (`match.actions`, `match.resources`). */
export const ACCESS_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

/** A top-level subject property name (`subjectProperties`). */
export const PROPERTY_NAME_PATTERN = /^[A-Za-z0-9_$@:-]{1,128}$/;

const accessName = (what: string) => z.string().regex(ACCESS_NAME_PATTERN, `${what} starts with a letter and may use letters, digits, ".", ":", "_" and "-" (at most 128 characters)`);

const propertyName = z.string().regex(PROPERTY_NAME_PATTERN, 'a property name may use letters, digits, "_", "$", "@", ":" and "-"');

const name = (what: string) => z.string().regex(NAME_PATTERN, `${what} may use letters, digits, ".", ":", "_" and "-"`);

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
      /** operationIds of the policy's API description (`api.openapi`), instead of methods and paths. */
      operations: z.array(z.string().min(1)).min(1).optional(),
      /** `x-keycard-permission` names of the API description: every operation that needs one of them. */
      permissions: z.array(name('a permission')).min(1).optional(),
      /** Access rules: the actions of access questions this rule answers (any action when left out). */
      actions: z.array(accessName('an action name')).min(1).optional(),
      /** Access rules: the resource types this rule answers about; the policy then owns those types. */
      resources: z.array(accessName('a resource type')).min(1).optional(),
    })
    .default({}),
  /** Allow callers without a credential. Only for `effect: allow` without conditions on the caller. */
  anonymous: z.boolean().default(false),
  when: z.array(conditionSchema).default([]),
  /** Deny rules only: record would-be denials without enforcing them. */
  dryRun: z.boolean().default(false),
  /** Allow rules only: the permission name this rule grants, for the permissions header. */
  permission: name('a permission').optional(),
});

export type RuleSpec = z.infer<typeof ruleSchema>;

export const policySchema = z.strictObject({
  service: name('a service name'),
  description: z.string().optional(),
  hosts: z.array(z.string().min(1)).default([]),
  /** The service's API description: rules may then name its operations and permissions. */
  api: z.strictObject({ openapi: z.string().min(1) }).optional(),
  mode: z.enum(['enforce', 'dry-run']).default('enforce'),
  authentication: authenticationSchema.default({ onMultiple: 'reject' }),
  rules: z.array(ruleSchema).default([]),
  /** When the live store fails: deny (fail-closed), or answer from cached state up to maxStale old. */
  store: z
    .strictObject({ onError: z.enum(['fail-closed', 'serve-stale']).default('fail-closed'), maxStale: durationMs.default(60_000) })
    .default({ onError: 'fail-closed', maxStale: 60_000 }),
  forward: z
    .strictObject({
      identityHeaders: z.boolean().default(true),
      permissionsHeader: z.boolean().default(false),
      /** A short-lived JWT signed by keycard (settings `internalToken`) carrying subject, service and roles. */
      identityToken: z.boolean().default(false),
    })
    .default({ identityHeaders: true, permissionsHeader: false, identityToken: false }),
  /** Subject properties an access question's caller may send: used where the directory has none, or overriding it. */
  subjectProperties: z
    .strictObject({ fromCaller: z.array(propertyName).default([]), callerOverrides: z.array(propertyName).default([]) })
    .default({ fromCaller: [], callerOverrides: [] }),
  /** Who may ask access questions (AuthZEN) about this service; nobody when left out. */
  authzen: z
    .strictObject({
      callers: z
        .array(
          z
            .strictObject({
              subject: z.string().min(1).optional(),
              issuer: z.string().min(1).optional(),
              principal: z.string().min(1).optional(),
              role: z.string().regex(/^[^\s#@]+$/, 'a role name has no whitespace, "#" or "@"').optional(),
            })
            .refine((entry) => Object.keys(entry).length > 0, { message: 'name the caller: subject, issuer, principal or role' })
            .refine((entry) => !(entry.issuer !== undefined && entry.subject === undefined && entry.principal === undefined && entry.role === undefined), {
              message: 'an issuer alone would let every caller of that issuer ask: add subject (or role)',
            }),
        )
        .default([]),
    })
    .optional(),
  /** The HTML deny page for browsers (`html`, `supportContact`); unset keys come from the settings file's `denyPage`. */
  denyPage: policyDenyPageSchema.optional(),
});

export type PolicySpec = z.infer<typeof policySchema>;
