// Settings for credentials other than JWT issuers. Secrets are read from a file or an environment
// variable named here, never written in the settings file itself.
//   apiKeys:
//     pepperFile: secrets/api-key-pepper        # or pepperEnv: KEYCARD_API_KEY_PEPPER
//   introspection:
//     - name: legacy-idp
//       endpoint: https://idp.example/oauth2/introspect
//       clientId: keycard
//       clientSecretFile: secrets/introspection  # or clientSecretEnv
//       timeout: 2s
//       cacheMaxTtl: 5m                          # an active token is cached until its exp, at most this long
//       negativeCacheTtl: 10s                    # an inactive token is remembered this long
//       cacheSize: 10000
//   sessions:
//     idleTimeout: 30m
//     absoluteTimeout: 12h
//   internalToken:                               # a short-lived JWT keycard signs for the service
//     signingKeyFile: keys/internal-signing.jwk.json   # a private JWK with kid and alg (ES256, EdDSA, RS256)
//     additionalPublicKeysFile: keys/next.jwks.json   # optional: public keys also published (rotation)
//     issuer: https://keycard.internal
//     lifetime: 60s
//     header: x-keycard-token
import { z } from 'zod';
import { durationMs } from './duration.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (letters, digits, "_")');

/** A secret from exactly one of `<name>File` and `<name>Env`. */
function secretFields<N extends string>(name: N) {
  return { [`${name}File`]: z.string().min(1).optional(), [`${name}Env`]: envName.optional() } as Record<`${N}File` | `${N}Env`, z.ZodOptional<z.ZodString>>;
}

function exactlyOneSecret(name: string) {
  return (entry: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if ((entry[`${name}File`] === undefined) === (entry[`${name}Env`] === undefined)) {
      ctx.addIssue({ code: 'custom', message: `set exactly one of ${name}File and ${name}Env`, path: [`${name}File`] });
    }
  };
}

export const apiKeySettingsSchema = z.strictObject({ ...secretFields('pepper') }).superRefine(exactlyOneSecret('pepper'));

export const introspectionEndpointSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'endpoint names are lowercase letters, digits, "-" and "_"'),
    endpoint: z.url({ protocol: /^https?$/ }),
    clientId: z.string().min(1),
    ...secretFields('clientSecret'),
    timeout: durationMs.default(2_000),
    cacheMaxTtl: durationMs.default(300_000),
    negativeCacheTtl: durationMs.default(10_000),
    cacheSize: z.number().int().positive().default(10_000),
  })
  .superRefine(exactlyOneSecret('clientSecret'));

export const sessionSettingsSchema = z.strictObject({
  idleTimeout: durationMs.refine((ms) => ms >= 1000, 'at least 1s').default(1_800_000),
  absoluteTimeout: durationMs.refine((ms) => ms >= 1000, 'at least 1s').default(43_200_000),
});

export const internalTokenSchema = z.strictObject({
  signingKeyFile: z.string().min(1),
  /** Public keys published next to the signing key (a JWK set), for rotation: the next key, or the previous one. */
  additionalPublicKeysFile: z.string().min(1).optional(),
  issuer: z.string().min(1).default('keycard'),
  lifetime: durationMs.refine((ms) => ms >= 1000 && ms <= 3_600_000, 'between 1s and 1h').default(60_000),
  header: z
    .string()
    .regex(/^x-keycard-[a-z0-9-]+$/, 'the header must start with x-keycard- (so client copies are always removed)')
    .default('x-keycard-token'),
});

export type ApiKeySettings = z.infer<typeof apiKeySettingsSchema>;
export type IntrospectionEndpointSettings = z.infer<typeof introspectionEndpointSchema>;
export type SessionSettings = z.infer<typeof sessionSettingsSchema>;
export type InternalTokenSettings = z.infer<typeof internalTokenSchema>;
