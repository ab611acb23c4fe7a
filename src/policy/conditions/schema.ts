// The YAML form of one `when:` entry. Exactly one key per entry, so every entry reads as one
// condition; `not` and `anyOf` nest entries.
import { z } from 'zod';
import { durationMs } from '../../config/duration.js';
import type { AttributeSpec } from './attribute.js';
import { timeWindowSchema, type TimeWindowSpec } from './time-window.js';
import { valueMatchShape, type ValueMatchSpec } from './value-match.js';

const token = (what: string) => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, `${what} may use letters, digits, ".", ":", "/", "_" and "-"`);

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]) as z.infer<T>[]);

/** Written out because zod cannot infer a recursive type (`not`, `anyOf`). */
export interface ConditionSpec {
  role?: string[];
  scope?: string[];
  claim?: ValueMatchSpec & { name: string };
  header?: ValueMatchSpec & { name: string };
  sourceCidr?: string[];
  timeWindow?: TimeWindowSpec;
  mfa?: boolean;
  acr?: string[];
  /** Milliseconds. */
  maxAuthAge?: number;
  relation?: string;
  /** mTLS peer principals: exact, or a prefix ending in "/*". */
  principal?: string[];
  attribute?: AttributeSpec;
  not?: ConditionSpec;
  anyOf?: ConditionSpec[];
}

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const attributeRef = z.strictObject({ attribute: z.string().min(1) });
const operand = z.union([scalar, attributeRef]);

const attributeSchema = z.strictObject({
  name: z.string().min(1),
  equals: operand.optional(),
  notEquals: operand.optional(),
  in: z.union([z.array(scalar).min(1), attributeRef]).optional(),
  contains: operand.optional(),
  exists: z.boolean().optional(),
  lessThan: z.union([z.number(), attributeRef]).optional(),
  greaterThan: z.union([z.number(), attributeRef]).optional(),
});

export const conditionSchema: z.ZodType<ConditionSpec> = z
  .strictObject({
    role: oneOrMany(token('a role')).optional(),
    scope: oneOrMany(token('a scope')).optional(),
    claim: z.strictObject({ name: z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a claim name or dotted path'), ...valueMatchShape }).optional(),
    header: z.strictObject({ name: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name uses letters, digits and !#$%&\'*+.^_`|~-'), ...valueMatchShape }).optional(),
    sourceCidr: oneOrMany(z.string()).optional(),
    timeWindow: timeWindowSchema.optional(),
    mfa: z.boolean().optional(),
    acr: oneOrMany(z.string().min(1)).optional(),
    maxAuthAge: durationMs.optional(),
    relation: z.string().optional(),
    principal: oneOrMany(z.string().min(1)).optional(),
    attribute: attributeSchema.optional(),
    get not(): z.ZodOptional<z.ZodType<ConditionSpec>> {
      return conditionSchema.optional();
    },
    get anyOf(): z.ZodOptional<z.ZodArray<z.ZodType<ConditionSpec>>> {
      return z.array(conditionSchema).min(1).optional();
    },
  })
  .refine((entry) => Object.keys(entry).length === 1, { message: 'each condition has exactly one key, e.g. {role: admin}' });
