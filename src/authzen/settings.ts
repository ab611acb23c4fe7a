// Settings `authzen:`: the AuthZEN Authorization API listener. Off unless configured. Callers
// (policy enforcement points) authenticate with the same credential entries a policy's
// `authentication:` takes, checked against the issuers, API keys and introspection endpoints the
// settings file configures.
import { z } from 'zod';
import { DEFAULT_AUTHENTICATION, type AuthenticationConfig } from '../authn/credentials/types.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { authenticationSchema } from '../policy/authentication-schema.js';
import { compileAuthentication, type CredentialSettingsView } from '../policy/authentication.js';
import type { YamlSource } from '../config/yaml-file.js';
import { listenAddress } from '../config/listen-address.js';

const DEFAULT_SEARCH = { enabled: true, defaultPageSize: 50, maxPageSize: 1000, maxChecksPerPage: 1000 } as const;

const searchSchema = z
  .strictObject({
    /** Serve the three search endpoints (and name them in the metadata document). */
    enabled: z.boolean().default(DEFAULT_SEARCH.enabled),
    /** Results per page when the request's `page.limit` is absent. */
    defaultPageSize: z.number().int().positive().default(DEFAULT_SEARCH.defaultPageSize),
    /** The largest `page.limit` honoured; larger limits are lowered to it. */
    maxPageSize: z.number().int().positive().default(DEFAULT_SEARCH.maxPageSize),
    /** Candidates decided per page at most: a page may come back short (with a next_token) when it is reached. */
    maxChecksPerPage: z.number().int().positive().default(DEFAULT_SEARCH.maxChecksPerPage),
  })
  .refine((search) => search.defaultPageSize <= search.maxPageSize, { message: 'defaultPageSize must not exceed maxPageSize', path: ['defaultPageSize'] });

export const authzenSettingsSchema = z.strictObject({
  listen: listenAddress,
  /**
   * The PDP identifier published as `policy_decision_point` in the metadata document, e.g.
   * https://pdp.example.com. Unset: derived from each metadata request's Host header.
   */
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .refine((url) => !/[?#]/.test(url), 'the PDP identifier has no query or fragment')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /** How callers authenticate: a policy's `authentication:` section. Unset: bearer JWTs from any configured issuer. */
  authentication: authenticationSchema.optional(),
  /** Evaluations in one /access/v1/evaluations request at most. */
  maxBatch: z.number().int().positive().max(10_000).default(100),
  /** Request bodies larger than this are refused (413). */
  maxBodyBytes: z.number().int().positive().default(1024 * 1024),
  search: searchSchema.default({ ...DEFAULT_SEARCH }),
});

/** The section as written (defaults filled in). */
export type AuthzenSettingsSpec = z.infer<typeof authzenSettingsSchema>;
export type AuthzenSettings = AuthzenSettingsSpec & {
  /** `authentication` compiled when the settings loaded: the credentials callers present (default: bearer JWTs from any issuer). */
  readonly callerAuthentication: AuthenticationConfig;
};
export type AuthzenSearchSettings = AuthzenSettings['search'];

/**
 * The section with its caller authentication compiled against the credentials the settings file
 * configures (issuers, introspection endpoints, API keys), once, at load; throws ConfigError
 * naming the section's paths.
 */
export function compileAuthzenSettings(source: YamlSource, authzen: AuthzenSettingsSpec | undefined, view: CredentialSettingsView): AuthzenSettings | undefined {
  if (!authzen) return undefined;
  if (!authzen.authentication) return { ...authzen, callerAuthentication: DEFAULT_AUTHENTICATION };
  const issues: ConfigIssue[] = [];
  // compileAuthentication names paths from `authentication`; here the section sits under `authzen`.
  const underAuthzen = Object.assign(Object.create(source) as YamlSource, {
    issue: (...[code, path, message, keyName]: Parameters<YamlSource['issue']>) => source.issue(code, ['authzen', ...path], message, keyName),
  });
  const callerAuthentication = compileAuthentication(authzen.authentication, underAuthzen, view, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return { ...authzen, callerAuthentication };
}
