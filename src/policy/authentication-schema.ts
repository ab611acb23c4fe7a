// The YAML form of a policy's `authentication:` section: which credentials the service accepts,
// in order of precedence, and what happens when a request carries more than one.
import { z } from 'zod';

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name uses letters, digits and !#$%&\'*+.^_`|~-')
  .transform((name) => name.toLowerCase());
const names = z.array(z.string().min(1)).min(1);
const cookieName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a cookie name uses letters, digits and !#$%&\'*+.^_`|~-');

/** Each entry names one credential kind; `{}` (or the bare name) takes the defaults. */
const entrySchemas = {
  jwt: z.strictObject({
    header: headerName.default('authorization'),
    issuers: names.optional(),
    /** Accepted `typ` header values, e.g. [at+jwt] for RFC 9068 access tokens. */
    types: z.array(z.string().min(1).transform((type) => type.toLowerCase().replace(/^application\//, ''))).min(1).optional(),
  }),
  envoyJwt: z.strictObject({
    /** The jwt_authn provider's `payload_in_metadata` name. */
    metadataKey: z.string().min(1).default('jwt_payload'),
    header: headerName.default('authorization'),
    issuers: names.optional(),
  }),
  apiKey: z
    .strictObject({ header: headerName.optional(), query: z.string().min(1).optional() })
    .refine((entry) => entry.header !== undefined || entry.query !== undefined, 'name a header or a query parameter (or both)'),
  introspection: z.strictObject({ endpoints: names, header: headerName.default('authorization') }),
  session: z.strictObject({ cookie: cookieName.default('keycard_session') }),
  mtls: z.strictObject({ forwardedClientCert: z.boolean().default(false) }),
} as const;

export type CredentialEntryName = keyof typeof entrySchemas;
export const CREDENTIAL_ENTRY_NAMES = Object.keys(entrySchemas) as CredentialEntryName[];

export type CredentialEntry = { [K in CredentialEntryName]: { readonly kind: K; readonly options: z.infer<(typeof entrySchemas)[K]> } }[CredentialEntryName];

/** `- jwt` or `- jwt: {...}`: parsed by hand so each mistake gets its own message and key path. */
const entrySchema = z.unknown().transform((entry, ctx): CredentialEntry => {
  if (typeof entry === 'string') {
    if (isEntryName(entry)) return parseEntry(entry, {}, ctx);
  } else if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `each credential entry has exactly one key, e.g. {jwt: {issuers: [corp-idp]}}; this one has ${keys.length}` });
      return z.NEVER;
    }
    const kind = keys[0]!;
    if (isEntryName(kind)) return parseEntry(kind, (entry as Record<string, unknown>)[kind] ?? {}, ctx, [kind]);
  }
  ctx.addIssue({ code: 'custom', message: `a credential entry is one of ${CREDENTIAL_ENTRY_NAMES.join(', ')} (alone, or as a key with options)` });
  return z.NEVER;
});

function isEntryName(name: string): name is CredentialEntryName {
  return (CREDENTIAL_ENTRY_NAMES as readonly string[]).includes(name);
}

function parseEntry(kind: CredentialEntryName, options: unknown, ctx: z.RefinementCtx, path: PropertyKey[] = []): CredentialEntry {
  const parsed = entrySchemas[kind].safeParse(options);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return { kind, options: parsed.data } as CredentialEntry;
}

export const authenticationSchema = z
  .strictObject({
    /** Shorthand for `credentials: [{jwt: {issuers: [...]}}]`. */
    issuers: names.optional(),
    credentials: z.array(entrySchema).min(1).optional(),
    onMultiple: z.enum(['reject', 'first']).default('reject'),
  })
  .refine((section) => section.issuers === undefined || section.credentials === undefined, {
    message: 'set issuers in the jwt entry of credentials, not beside it',
    path: ['issuers'],
  });

export type AuthenticationSpec = z.infer<typeof authenticationSchema>;
