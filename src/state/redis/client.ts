// Redis connections for the store: one for commands, one (see change-feed.ts) for the change
// channel. Built for a URL, Sentinel or Cluster from the store settings, always so that a caller
// never waits on Redis for long:
//   - no offline queue: while not connected a command fails at once instead of waiting;
//   - maxRetriesPerRequest 0 and no resending: a command in flight when the connection drops fails;
//   - commandTimeout: a command Redis does not answer in time fails;
//   - reconnection forever in the background, with capped, jittered exponential backoff.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, redactRedisUrl, type RedisStoreSettings } from '../../config/redis-store-settings.js';
import { ConfigError } from '../../errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Everything needed to connect, decided from the settings (and environment) before connecting. */
export type ConnectionPlan =
  | { readonly mode: 'standalone' | 'sentinel'; readonly target: string; readonly secrets: readonly string[]; readonly options: RedisOptions }
  | {
      readonly mode: 'cluster';
      readonly target: string;
      readonly secrets: readonly string[];
      readonly nodes: readonly HostPort[];
      readonly options: ClusterOptions;
      /** Options for a single connection to one cluster node (the change feed's). */
      readonly nodeOptions: RedisOptions;
    };

export interface PlanEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => Buffer;
}

const PROCESS_ENVIRONMENT: PlanEnvironment = { env: process.env, readFile: (path) => readFileSync(path) };

/** Reconnect delay: 50ms doubling up to 1s, plus up to 50ms of jitter so replicas do not reconnect in step. */
export function reconnectDelay(attempt: number): number {
  return Math.min(1000, 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 5)) + Math.floor(Math.random() * 50);
}

export function planConnection(settings: RedisStoreSettings, environment: PlanEnvironment = PROCESS_ENVIRONMENT): ConnectionPlan {
  const url = settings.url === undefined ? undefined : parseRedisUrl(settings.url);
  if (url !== undefined && !url.ok) throw configProblem('store.url', url.problem);
  const password = url?.value.password ?? (settings.passwordEnv === undefined ? undefined : fromEnv(environment, settings.passwordEnv, 'store.passwordEnv'));
  const sentinelPassword = settings.sentinelPasswordEnv === undefined ? undefined : fromEnv(environment, settings.sentinelPasswordEnv, 'store.sentinelPasswordEnv');
  const username = url?.value.username ?? settings.username;
  const tls = url?.value.tls || settings.tls !== undefined ? tlsOptions(settings.tls, environment) : undefined;
  const secrets = [password, sentinelPassword].filter((secret): secret is string => secret !== undefined);
  const connection: RedisOptions = {
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(tls !== undefined && { tls }),
    connectTimeout: settings.connectTimeout,
    commandTimeout: settings.commandTimeout,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableReadyCheck: true,
    connectionName: 'keycard',
    // After a failover the old master may answer READONLY: reconnect to find the new one.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  };

  if (url !== undefined) {
    const { host, port, db } = url.value;
    return {
      mode: 'standalone',
      target: redactRedisUrl(settings.url!),
      secrets,
      options: { ...connection, host, port, db, enableOfflineQueue: false, retryStrategy: reconnectDelay },
    };
  }
  if (settings.sentinels !== undefined) {
    return {
      mode: 'sentinel',
      target: `sentinel master "${settings.name}" via ${settings.sentinels.map(formatHostPort).join(', ')}`,
      secrets,
      options: {
        ...connection,
        sentinels: settings.sentinels.map(({ host, port }) => ({ host, port })),
        name: settings.name!,
        role: 'master',
        ...(sentinelPassword !== undefined && { sentinelPassword }),
        ...(tls !== undefined && { enableTLSForSentinelMode: true, sentinelTLS: tls }),
        sentinelRetryStrategy: reconnectDelay,
        sentinelCommandTimeout: settings.commandTimeout,
        // Sentinels announce a failover on +switch-master: move to the new master at once.
        failoverDetector: true,
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
      },
    };
  }
  const nodes = settings.cluster!.map(({ host, port }) => ({ host, port }));
  return {
    mode: 'cluster',
    target: `cluster via ${nodes.map(formatHostPort).join(', ')}`,
    secrets,
    nodes,
    options: {
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: reconnectDelay,
      scaleReads: 'master',
      slotsRefreshTimeout: settings.connectTimeout,
      // Redirections and cluster-down retries are bounded too; commandTimeout bounds each attempt.
      maxRedirections: 3,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      redisOptions: connection,
    },
    nodeOptions: { ...connection, enableOfflineQueue: false },
  };
}

/** The command connection; it starts connecting at once. */
export function createCommandClient(plan: ConnectionPlan): Redis | Cluster {
  return plan.mode === 'cluster' ? new Cluster(plan.nodes.map((node) => ({ ...node })), plan.options) : new Redis(plan.options);
}

/**
 * Makes the change feed's connections. Standalone and Sentinel: one connection that reconnects on
 * its own (through Sentinel, to the current master). Cluster: PUBLISH reaches every node, so the
 * feed listens on any one; a connection that fails a few reconnects in a row ends, and the next
 * call picks the next node the cluster knows of.
 */
export function subscriberFactory(plan: ConnectionPlan, command: Redis | Cluster): () => Redis {
  const feedOptions = { autoResubscribe: false, connectionName: 'keycard-changes' } as const;
  if (plan.mode !== 'cluster') return () => new Redis({ ...plan.options, ...feedOptions });
  let next = 0;
  return () => {
    const known = command instanceof Cluster ? command.nodes('all').map((node) => ({ host: node.options.host ?? '', port: node.options.port ?? 0 })) : [];
    const candidates = uniqueNodes([...known, ...plan.nodes]);
    const node = candidates[next++ % candidates.length]!;
    return new Redis({ ...plan.nodeOptions, ...feedOptions, host: node.host, port: node.port, retryStrategy: (attempt) => (attempt > 3 ? null : reconnectDelay(attempt)) });
  };
}

function uniqueNodes(nodes: readonly HostPort[]): HostPort[] {
  const seen = new Map<string, HostPort>();
  for (const node of nodes) if (node.host !== '' && node.port > 0) seen.set(formatHostPort(node), node);
  return [...seen.values()];
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function tlsOptions(tls: RedisStoreSettings['tls'], environment: PlanEnvironment): ConnectionOptions {
  const read = (key: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const file = tls?.[key];
    if (file === undefined) return undefined;
    try {
      return environment.readFile(file);
    } catch (error) {
      throw new ConfigError([{ code: 'file_unreadable', file, key: `store.tls.${key}`, message: (error as Error).message }]);
    }
  };
  const ca = read('caFile');
  const cert = read('certFile');
  const key = read('keyFile');
  return {
    ...(ca !== undefined && { ca }),
    ...(cert !== undefined && { cert }),
    ...(key !== undefined && { key }),
    ...(tls?.servername !== undefined && { servername: tls.servername }),
  };
}

function fromEnv(environment: PlanEnvironment, name: string, key: string): string {
  const value = environment.env[name];
  if (value === undefined || value === '') throw configProblem(key, `the environment variable ${name} is not set (or empty)`);
  return value;
}

function configProblem(key: string, message: string): ConfigError {
  return new ConfigError([{ code: 'invalid_value', file: 'store settings', key, message }]);
}
