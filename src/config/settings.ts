// The settings file: listeners, issuers, policy directory, store, limits and logging.
// Unknown keys are errors; relative paths resolve against the settings file's directory.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DEFAULT_STEP_UP } from '../policy/conditions/types.js';
import { parseCidr } from '../policy/conditions/source-cidr.js';
import { checkRelationSettings, relationSettingsSchema } from '../policy/relations/schema.js';
import { authzenSettingsSchema, compileAuthzenSettings, type AuthzenSettings } from '../authzen/settings.js';
import { apiKeySettingsSchema, internalTokenSchema, introspectionEndpointSchema, sessionSettingsSchema } from './credential-settings.js';
import { denyPageSettingsSchema } from './deny-page-settings.js';
import { EXPLORER_DEFAULTS, explorerSettingsSchema } from '../explorer/settings.js';
import { durationMs } from './duration.js';
import { isLoopbackHost } from './loopback.js';
import { listenAddress, type ListenAddress } from './listen-address.js';
import { redisStoreSchema, resolveStorePaths } from './redis-store-settings.js';
import { loadYamlFile } from './yaml-file.js';
import { tracingSettingsSchema } from '../tracing/settings.js';
import type { CompileOptions } from '../policy/compile.js';

/** Asymmetric JWS algorithms only: `none` and HMAC (a shared secret) are never accepted. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const issuerSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'issuer names are lowercase letters, digits, "-" and "_"'),
    issuer: z.string().min(1),
    audiences: z.array(z.string().min(1)).min(1),
    jwksFile: z.string().min(1).optional(),
    jwksUri: z.url({ protocol: /^https?$/ }).optional(),
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['RS256', 'ES256']),
    /** How often keys are refreshed in the background, and at most how often an unknown `kid` triggers a refresh. */
    jwksRefreshInterval: durationMs.default(300_000),
    jwksMinRefreshInterval: durationMs.default(10_000),
    jwksTimeout: durationMs.default(5_000),
  })
  .superRefine((issuer, ctx) => {
    if ((issuer.jwksFile === undefined) === (issuer.jwksUri === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of jwksFile and jwksUri', path: ['jwksFile'] });
    }
    if (issuer.jwksUri?.startsWith('http:') && !isLoopbackHost(new URL(issuer.jwksUri).hostname)) {
      ctx.addIssue({ code: 'custom', message: 'jwksUri must use https (http only for loopback addresses)', path: ['jwksUri'] });
    }
  });

const storeSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('memory'), seedFile: z.string().min(1).optional() }),
  redisStoreSchema,
]);

const settingsSchema = z.strictObject({
  grpc: z
    .strictObject({
      listen: listenAddress.default({ host: '0.0.0.0', port: 9001 }),
      maxMessageBytes: z.number().int().positive().default(4 * 1024 * 1024),
    })
    .default({ listen: { host: '0.0.0.0', port: 9001 }, maxMessageBytes: 4 * 1024 * 1024 }),
  /** The HTTP check mode (Envoy http_service, nginx auth_request, Traefik forwardAuth); off when absent. */
  http: z.strictObject({ listen: listenAddress }).optional(),
  admin: z
    .strictObject({ listen: listenAddress.default({ host: '0.0.0.0', port: 9090 }) })
    .default({ listen: { host: '0.0.0.0', port: 9090 } }),
  issuers: z.array(issuerSchema).default([]),
  /** API keys (hashed with this pepper in the store); policies may accept them only when set. */
  apiKeys: apiKeySettingsSchema.optional(),
  /** RFC 7662 token introspection endpoints for opaque tokens. */
  introspection: z.array(introspectionEndpointSchema).default([]),
  sessions: sessionSettingsSchema.default({ idleTimeout: 1_800_000, absoluteTimeout: 43_200_000 }),
  /** A short-lived identity JWT keycard signs for services (policy `forward.identityToken`). */
  internalToken: internalTokenSchema.optional(),
  jwt: z
    .strictObject({
      clockSkew: durationMs.default(30_000),
      maxTokenBytes: z.number().int().positive().default(8192),
      cacheSize: z.number().int().positive().default(10_000),
      /** Upper bound on how long a verified token is trusted without verifying it again. */
      cacheMaxTtl: durationMs.default(300_000),
      /** Longest token lifetime accepted; bounds how long a revocation entry must be kept. */
      maxTokenLifetime: durationMs.refine((ms) => ms >= 1000, 'at least 1s').default(86_400_000),
    })
    .default({ clockSkew: 30_000, maxTokenBytes: 8192, cacheSize: 10_000, cacheMaxTtl: 300_000, maxTokenLifetime: 86_400_000 }),
  limits: z
    .strictObject({
      maxHeaders: z.number().int().positive().default(128),
      maxHeaderBytes: z.number().int().positive().default(64 * 1024),
    })
    .default({ maxHeaders: 128, maxHeaderBytes: 64 * 1024 }),
  network: z
    .strictObject({
      /** Proxies whose x-forwarded-for header is believed when they are the peer (CIDRs). */
      trustedProxies: z.array(z.string().refine((cidr) => parseCidr(cidr) !== undefined, 'not an IPv4 or IPv6 CIDR')).default([]),
    })
    .default({ trustedProxies: [] }),
  stepUp: z
    .strictObject({
      /** `amr` values that satisfy `mfa: true` (RFC 8176 names). */
      mfaAmrValues: z.array(z.string().min(1)).min(1).default([...DEFAULT_STEP_UP.mfaAmrValues]),
      /** `acr` values that satisfy `mfa: true`; sent as acr_values in the step-up challenge. */
      mfaAcrValues: z.array(z.string().min(1)).default([...DEFAULT_STEP_UP.mfaAcrValues]),
    })
    .default({ mfaAmrValues: [...DEFAULT_STEP_UP.mfaAmrValues], mfaAcrValues: [...DEFAULT_STEP_UP.mfaAcrValues] }),
  policies: z.strictObject({
    dir: z.string().min(1),
    /** Watch the directory and reload on change; the last good set stays on error. */
    watch: z.boolean().default(true),
  }),
  /** A candidate policy set evaluated beside the enforced one on live traffic, never enforced. */
  shadow: z
    .strictObject({
      dir: z.string().min(1),
      watch: z.boolean().default(true),
      /** Shadow evaluations waiting or running at most; past it new ones are dropped (and counted). */
      maxInFlight: z.number().int().positive().default(1000),
    })
    .optional(),
  store: storeSchema.default({ type: 'memory' }),
  /** ReBAC: relation types and rewrites; without it every `relation:` condition is a load error. */
  relations: relationSettingsSchema.optional(),
  /** The HTML deny page for browsers, for every service (a policy's `denyPage` overrides it); off by default. */
  denyPage: denyPageSettingsSchema.optional(),
  /** The decision explorer page on the admin port; off by default. */
  explorer: explorerSettingsSchema.default({ ...EXPLORER_DEFAULTS }),
  audit: z
    .strictObject({ output: z.string().min(1).default('stdout') })
    .default({ output: 'stdout' }),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
    .default({ level: 'info' }),
  shutdown: z.strictObject({ gracePeriod: durationMs.default(10_000) }).default({ gracePeriod: 10_000 }),
  /** OpenTelemetry traces over OTLP; off unless present here or configured by OTEL_* variables (src/tracing/config.ts). */
  tracing: tracingSettingsSchema.optional(),
  /** The AuthZEN Authorization API listener for services' own questions; off when absent. */
  authzen: authzenSettingsSchema.optional(),
});

type RawSettings = z.infer<typeof settingsSchema>;
export type IssuerSettings = RawSettings['issuers'][number];
export type StoreSettings = RawSettings['store'];

export interface Settings extends RawSettings {
  /** The settings file, for messages. */
  readonly file: string;
  /** Settings `authzen`, its caller authentication compiled at load. */
  readonly authzen?: AuthzenSettings;
}

export interface SettingsOverrides {
  readonly grpcListen?: ListenAddress;
  readonly adminListen?: ListenAddress;
  readonly httpListen?: ListenAddress;
}

export function loadSettings(file: string, overrides: SettingsOverrides = {}): Settings {
  const path = resolve(file);
  const { source, data } = loadYamlFile(path, settingsSchema, file);
  const names = new Set<string>();
  data.issuers.forEach((issuer, index) => {
    if (names.has(issuer.name)) {
      throw new ConfigError([source.issue('invalid_value', ['issuers', index, 'name'], `duplicate issuer name "${issuer.name}"`)]);
    }
    names.add(issuer.name);
  });
  const endpoints = new Set<string>();
  data.introspection.forEach((endpoint, index) => {
    if (endpoints.has(endpoint.name)) {
      throw new ConfigError([source.issue('invalid_value', ['introspection', index, 'name'], `duplicate introspection endpoint name "${endpoint.name}"`)]);
    }
    endpoints.add(endpoint.name);
  });
  checkRelationSettings(source, data.relations);
  const authzen = compileAuthzenSettings(source, data.authzen, {
    issuers: names,
    introspectionEndpoints: endpoints,
    apiKeys: data.apiKeys !== undefined,
  });
  const base = dirname(path);
  const inBase = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const auditOutput = ['stdout', 'stderr', 'off'].includes(data.audit.output) ? data.audit.output : inBase(data.audit.output);
  return {
    ...data,
    file,
    grpc: { ...data.grpc, listen: overrides.grpcListen ?? data.grpc.listen },
    admin: { ...data.admin, listen: overrides.adminListen ?? data.admin.listen },
    http: overrides.httpListen ? { listen: overrides.httpListen } : data.http,
    issuers: data.issuers.map((issuer) => ({ ...issuer, ...(issuer.jwksFile && { jwksFile: inBase(issuer.jwksFile) }) })),
    ...(data.apiKeys && { apiKeys: { ...data.apiKeys, ...(data.apiKeys.pepperFile && { pepperFile: inBase(data.apiKeys.pepperFile) }) } }),
    introspection: data.introspection.map((endpoint) => ({ ...endpoint, ...(endpoint.clientSecretFile && { clientSecretFile: inBase(endpoint.clientSecretFile) }) })),
    ...(data.internalToken && {
      internalToken: {
        ...data.internalToken,
        signingKeyFile: inBase(data.internalToken.signingKeyFile),
        ...(data.internalToken.additionalPublicKeysFile && { additionalPublicKeysFile: inBase(data.internalToken.additionalPublicKeysFile) }),
      },
    }),
    policies: { ...data.policies, dir: inBase(data.policies.dir) },
    ...(data.shadow && { shadow: { ...data.shadow, dir: inBase(data.shadow.dir) } }),
    store: resolveStorePaths(data.store, inBase),
    audit: { output: auditOutput },
    explorer: { ...data.explorer, ...(data.explorer.adminTokenFile && { adminTokenFile: inBase(data.explorer.adminTokenFile) }) },
    authzen,
  };
}

/** What policies are compiled against: the names and credentials this settings file configures. */
export function policyCompileOptions(settings: Settings): Pick<CompileOptions, 'issuers' | 'credentials' | 'stepUp'> {
  return {
    issuers: new Set(settings.issuers.map((issuer) => issuer.name)),
    credentials: {
      introspectionEndpoints: new Set(settings.introspection.map((endpoint) => endpoint.name)),
      apiKeys: settings.apiKeys !== undefined,
      internalToken: settings.internalToken !== undefined,
    },
    stepUp: settings.stepUp,
  };
}
