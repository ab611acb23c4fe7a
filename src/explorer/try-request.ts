// "Try a request": a hypothetical request decided against the policies now loaded and explained,
// through the same offline evaluation `keycard check --subject` uses. The caller is given (subject,
// issuer, claims; roles given or read from the store), never authenticated from a credential, so
// nothing here needs or echoes a token.
import { isIP, type BlockList } from 'node:net';
import { z } from 'zod';
import { explainDecision } from '../cli/explain.js';
import { normalizeHost } from '../pipeline/normalize.js';
import { decideOffline, type OfflineCaller, type OfflineRequest } from '../pipeline/offline.js';
import { defaultIssuer, instantSchema } from '../pipeline/offline-schema.js';
import { decisionLabel } from '../pipeline/types.js';
import type { RelationChecker } from '../policy/conditions/types.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { StateStore } from '../state/store.js';

/** Headers that carry credentials: the try form decides for a given caller and never takes one. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

/** The try form's body is at most this large; larger ones get 413 before they are parsed. */
export const MAX_TRY_BODY_BYTES = 16 * 1024;

export const tryRequestSchema = z
  .strictObject({
    method: z
      .string()
      .regex(/^[A-Za-z]{1,16}$/, 'an HTTP method such as GET')
      .transform((method) => method.toUpperCase())
      .default('GET'),
    path: z.string().min(1).max(2048),
    host: z.string().max(255).optional(),
    /** The service Envoy would name; routes by host when absent. */
    service: z.string().max(128).optional(),
    subject: z.string().min(1).max(256).optional(),
    /** A configured issuer name; the service's first accepted issuer when absent. */
    issuer: z.string().min(1).max(128).optional(),
    claims: z
      .record(z.string().min(1).max(128), z.unknown())
      .refine((claims) => Object.keys(claims).length <= 32, 'at most 32 claims')
      .refine((claims) => !('sub' in claims), 'sub is the caller\'s subject: set "subject" instead')
      .optional(),
    /** Roles given; absent reads the subject's roles from the store. */
    roles: z.array(z.string().min(1).max(128)).max(64).optional(),
    source: z.string().refine((address) => isIP(address) !== 0, 'an IPv4 or IPv6 address').optional(),
    principal: z.string().min(1).max(512).optional(),
    /** Request headers conditions read (header, client address behind trusted proxies); never a credential. */
    headers: z
      .record(z.string(), z.string().max(4096))
      .superRefine((headers, ctx) => {
        const names = Object.keys(headers);
        if (names.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 headers' });
        for (const name of names) {
          if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a header name' });
          else if (CREDENTIAL_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: 'the caller is given by subject: no credential is sent to the explorer' });
        }
      })
      .transform((headers) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])))
      .optional(),
    /** When the request is decided (time windows, auth age), like `keycard check --now`; now when absent. */
    now: instantSchema.optional(),
  })
  .superRefine((input, ctx) => {
    if (input.subject === undefined) {
      for (const key of ['issuer', 'claims', 'roles'] as const) {
        if (input[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} describes a caller: add subject` });
      }
    }
  });

export type TryInput = z.infer<typeof tryRequestSchema>;

export interface TryResult {
  readonly decision: 'allow' | 'deny' | 'dry_run_deny';
  readonly status: number;
  readonly reason: string;
  readonly service?: string;
  readonly rule?: string;
  /** The lines `keycard check` prints. */
  readonly explanation: readonly string[];
}

export type TryAnswer = { readonly ok: true; readonly result: TryResult } | { readonly ok: false; readonly status: 400 | 503; readonly error: string };

export interface TryDeps {
  /** The policies now loaded; undefined while none has loaded. */
  readonly policies: PolicySet | undefined;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly trustedProxies?: BlockList;
  /** Issuer names of the settings file. */
  readonly issuers: readonly string[];
}

export async function tryRequest(deps: TryDeps, input: TryInput): Promise<TryAnswer> {
  const { policies } = deps;
  if (!policies) return { ok: false, status: 503, error: 'no policy set is loaded' };
  if (input.issuer !== undefined && !deps.issuers.includes(input.issuer)) {
    return { ok: false, status: 400, error: `issuer "${input.issuer}" is not an issuer of the settings file (${deps.issuers.join(', ') || 'none'})` };
  }
  const request: OfflineRequest = {
    method: input.method,
    path: input.path,
    host: input.host,
    service: input.service,
    source: input.source,
    principal: input.principal,
    ...(input.headers && { headers: input.headers }),
  };
  let caller: OfflineCaller = {};
  if (input.subject !== undefined) {
    const issuer = input.issuer ?? defaultIssuer(policies.route(input.service, normalizeHost(input.host ?? '')), deps.issuers);
    caller = {
      subject: input.subject,
      ...(issuer !== undefined && { issuer }),
      ...(input.claims && { claims: input.claims }),
      ...(input.roles && { roles: input.roles }),
    };
  }
  const { now } = input;
  const decision = await decideOffline(
    { policies, store: deps.store, relations: deps.relations, ...(deps.trustedProxies && { trustedProxies: deps.trustedProxies }), ...(now !== undefined && { now: () => now }) },
    request,
    caller,
  );
  return {
    ok: true,
    result: {
      decision: decisionLabel(decision),
      status: decision.status,
      reason: decision.reason,
      ...(decision.service !== undefined && { service: decision.service }),
      ...(decision.ruleId !== undefined && { rule: decision.ruleId }),
      explanation: explainDecision(decision, request, { rolesFrom: input.roles ? 'given' : 'store' }),
    },
  };
}
