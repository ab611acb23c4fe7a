// `store: { type: redis, ... }`: where the shared Redis store is and how to reach it.
//   store:
//     type: redis
//     url: rediss://redis.internal:6380/0      # or sentinels + name, or cluster (exactly one)
//     keyPrefix: "keycard:"
//     username: keycard
//     passwordEnv: KEYCARD_REDIS_PASSWORD       # the password is read from this variable
//     tls: { caFile: ca.pem, certFile: client.pem, keyFile: client.key, servername: redis.internal }
//     commandTimeout: 250ms
//     connectTimeout: 1s
//     seedFile: seed.yaml                       # applied once, to a store never seeded before
//     cache: { maxEntries: 10000, ttl: 30s }     # answers cached per kind; ttl bounds staleness
// Secrets never appear in messages: a URL is only ever shown with its password replaced.
import { z } from 'zod';
import { durationMs } from './duration.js';
import { storeCacheSchema } from './store-cache-settings.js';

const hostPort = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (letters, digits, "_")');

/** The parts of a `redis://` or `rediss://` URL; `problem` says what is wrong without repeating the URL. */
export interface RedisUrl {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

export function parseRedisUrl(text: string): { ok: true; value: RedisUrl } | { ok: false; problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'not a URL (expected redis://HOST:PORT/DB or rediss://HOST:PORT/DB)' };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return { ok: false, problem: 'the scheme must be redis:// or rediss://' };
  if (url.hostname === '') return { ok: false, problem: 'the URL has no host' };
  if (url.search !== '' || url.hash !== '') return { ok: false, problem: 'the URL may not have a query or fragment (use the store settings instead)' };
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) return { ok: false, problem: 'the URL path must be a database number, e.g. /0' };
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username === '' ? undefined : decodeURIComponent(url.username);
    password = url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    return { ok: false, problem: 'the URL user or password is not valid percent-encoding' };
  }
  return {
    ok: true,
    value: {
      tls: url.protocol === 'rediss:',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 6379 : Number(url.port),
      db: path === '' ? 0 : Number(path),
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
    },
  };
}

/** The URL with any password replaced by `***`, for messages. Unparseable text is withheld entirely. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export const redisStoreSchema = z
  .strictObject({
    type: z.literal('redis'),
    url: z.string().min(1).optional(),
    /** Every key keycard writes starts with it; so does the change channel `<keyPrefix>changes`. */
    keyPrefix: z.string().min(1).regex(/^[^{}\s]+$/, 'no whitespace, "{" or "}" (keycard adds its own hash tag)').default('keycard:'),
    username: z.string().min(1).optional(),
    /** The name of the environment variable that holds the password (never the password itself). */
    passwordEnv: envName.optional(),
    tls: z
      .strictObject({
        caFile: z.string().min(1).optional(),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        servername: z.string().min(1).optional(),
      })
      .optional(),
    sentinels: z.array(hostPort).min(1).optional(),
    /** Sentinel only: the master's name. */
    name: z.string().min(1).optional(),
    sentinelPasswordEnv: envName.optional(),
    cluster: z.array(hostPort).min(1).optional(),
    /** How long one command may take before it fails (so a Check never waits longer on Redis). */
    commandTimeout: durationMs.refine((ms) => ms > 0, 'must be more than 0').default(250),
    connectTimeout: durationMs.refine((ms) => ms > 0, 'must be more than 0').default(1000),
    seedFile: z.string().min(1).optional(),
    /** The read cache in front of Redis (see src/state/caching-store.ts). */
    cache: storeCacheSchema,
  })
  .superRefine((store, ctx) => {
    const modes = (['url', 'sentinels', 'cluster'] as const).filter((key) => store[key] !== undefined);
    if (modes.length !== 1) {
      ctx.addIssue({ code: 'custom', path: modes[1] ? [modes[1]] : [], message: 'set exactly one of url, sentinels and cluster' });
    }
    if (store.sentinels !== undefined && store.name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'sentinels need the master name in "name"' });
    }
    if (store.sentinels === undefined) {
      if (store.name !== undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: '"name" (the master name) is for sentinels only' });
      if (store.sentinelPasswordEnv !== undefined) ctx.addIssue({ code: 'custom', path: ['sentinelPasswordEnv'], message: 'sentinelPasswordEnv is for sentinels only' });
    }
    if ((store.tls?.certFile === undefined) !== (store.tls?.keyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tls', store.tls?.certFile === undefined ? 'certFile' : 'keyFile'], message: 'certFile and keyFile go together' });
    }
    if (store.url === undefined) return;
    const parsed = parseRedisUrl(store.url);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: parsed.problem });
      return;
    }
    if (store.tls !== undefined && !parsed.value.tls) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls settings need a rediss:// url' });
    if (parsed.value.username !== undefined && store.username !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'the url already names a user' });
    }
    if (parsed.value.password !== undefined && store.passwordEnv !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['passwordEnv'], message: 'the url already holds a password; keep it in one place (passwordEnv is safer)' });
    }
  });

export type RedisStoreSettings = z.infer<typeof redisStoreSchema>;

/** Store settings with the seed file and TLS files resolved by `resolvePath`. */
export function resolveStorePaths<T extends { seedFile?: string | undefined; tls?: RedisStoreSettings['tls'] }>(store: T, resolvePath: (path: string) => string): T {
  const out: T = { ...store };
  if (store.seedFile !== undefined) out.seedFile = resolvePath(store.seedFile);
  if (store.tls !== undefined) {
    const tls = { ...store.tls };
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const file = tls[key];
      if (file !== undefined) tls[key] = resolvePath(file);
    }
    out.tls = tls;
  }
  return out;
}
