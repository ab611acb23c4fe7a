// The file form (YAML or JSON) of an offline request, caller and decision time: what
// `keycard check --request` reads and what each `keycard test` case holds. Validated with located
// errors like every other file keycard reads.
import { isIP } from 'node:net';
import { z } from 'zod';
import type { CompiledPolicy } from '../policy/types.js';

const headerValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const offlineRequestSchema = z.strictObject({
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'an HTTP method such as GET')
    .transform((method) => method.toUpperCase())
    .optional(),
  path: z.string().min(1),
  host: z.string().optional(),
  /** The service Envoy names in context_extensions; "" (or none) routes by host. */
  service: z.string().optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name'), headerValue).optional(),
  /** The client address (the peer). */
  source: z.string().refine((address) => isIP(address) !== 0, 'an IPv4 or IPv6 address').optional(),
  /** The mTLS peer identity Envoy reports (source.principal), e.g. spiffe://cluster.local/ns/shop/sa/checkout. */
  principal: z.string().min(1).optional(),
});

export const offlineCallerSchema = z
  .strictObject({
    subject: z.string().min(1),
    /** Configured issuer name; `offline` when left out. */
    issuer: z.string().min(1).optional(),
    /** Verified claims as the token would carry them, e.g. amr, acr, auth_time, scope. */
    claims: z.record(z.string(), z.unknown()).optional(),
    /** Roles to use instead of the store's bindings. */
    roles: z.array(z.string().min(1)).optional(),
  })
  .superRefine((caller, ctx) => {
    if (caller.claims && 'sub' in caller.claims) {
      ctx.addIssue({ code: 'custom', path: ['claims', 'sub'], message: 'sub is the caller\'s subject: set "subject" instead' });
    }
  });

/** An ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z; becomes milliseconds since the epoch. */
export const instantSchema = z.iso
  .datetime({ offset: true, message: 'an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z' })
  .transform((text) => Date.parse(text));

/** Parses an ISO 8601 instant (as for `--now`); undefined when it is not one. */
export function parseInstant(text: string): number | undefined {
  const result = instantSchema.safeParse(text);
  return result.success ? result.data : undefined;
}

/**
 * The issuer a given caller comes from when none is named: the first one the routed policy
 * accepts, else the first configured one (so `authentication.issuers` lets the caller in).
 */
export function defaultIssuer(policy: CompiledPolicy | undefined, configured: readonly string[]): string | undefined {
  return policy?.issuers?.[0] ?? configured[0];
}
