// The composition root: builds every part of keycard from the settings and runs it.
import { Authenticator, type Issuer } from './authn/authenticator.js';
import { fileLoader, KeySet, uriLoader } from './authn/key-set.js';
import { proxyAndOpaqueProviders, type ProxyAndOpaqueProviders } from './authn/credentials/proxy-and-opaque-providers.js';
import { storeCredentials, type StoreCredentials } from './authn/credentials/store-credentials.js';
import { IdentityPhase } from './authn/identity-phase.js';
import { InternalTokenIssuer } from './authn/internal-token.js';
import { TokenCache } from './authn/token-cache.js';
import { AuditLog } from './audit/audit-log.js';
import { policyCompileOptions, type Settings } from './config/settings.js';
import { formatConfigIssue } from './errors.js';
import { createLogger, type Logger } from './log/logger.js';
import { Metrics } from './metrics/metrics.js';
import { trustedProxyList } from './pipeline/client-address.js';
import { Pipeline } from './pipeline/pipeline.js';
import { PolicySource } from './policy/policy-source.js';
import { AdminServer, type Readiness } from './server/admin-server.js';
import { GrpcServer } from './server/grpc-server.js';
import { HttpCheckServer } from './server/http-check-server.js';
import type { RelationChecker } from './policy/conditions/types.js';
import { relationChecker } from './policy/relations/resolver.js';
import { Shadow } from './shadow/shadow.js';
import { RelationSchema } from './policy/relations/schema.js';
import { createServingStore } from './state/create-store.js';
import type { StateStore } from './state/store.js';

export interface RunningPorts {
  readonly grpc: number;
  /** Absent when the admin port is left to a cluster primary. */
  readonly admin?: number;
  /** The HTTP check listener's port, when `http` is configured. */
  readonly http?: number;
}

export interface KeycardOptions {
  /** Serve the admin port (metrics, healthz, readyz). A cluster worker leaves it to the primary. Default true. */
  readonly admin?: boolean;
  /** Several processes write to the same stdout/stderr (cluster workers): keep each audit write whole. */
  readonly sharedOutput?: boolean;
}

export class Keycard {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly policies: PolicySource;
  readonly store: StateStore;
  readonly pipeline: Pipeline;
  /** ReBAC: answers relation conditions from the store and the relation schema. */
  readonly relations: RelationChecker;
  /** The candidate policy set (settings `shadow`), decided beside the enforced one, never enforced. */
  readonly shadow: Shadow | undefined;
  private readonly issuers: Issuer[];
  /** Signs the internal identity tokens (settings `internalToken`); its key loads in load(). */
  private readonly identityTokens: InternalTokenIssuer | undefined;
  /** Introspection, envoy_jwt and mTLS providers; the introspection secrets load in load(). */
  private readonly proxyAndOpaque: ProxyAndOpaqueProviders;
  /** API key and session providers (the live store); the API key pepper loads in load(). */
  private readonly storeCredentials: StoreCredentials;
  private readonly audit: AuditLog;
  private readonly grpc: GrpcServer;
  private readonly admin: AdminServer | undefined;
  private readonly httpCheck: HttpCheckServer | undefined;

  constructor(
    private readonly settings: Settings,
    logger?: Logger,
    options: KeycardOptions = {},
  ) {
    this.logger = logger ?? createLogger(settings.log.level);
    this.metrics = new Metrics((service) => this.policies.current?.has(service) ?? false);
    this.audit = new AuditLog({ output: settings.audit.output, onDrop: () => this.metrics.auditDropped.inc(), sharedOutput: options.sharedOutput ?? false });
    const relationSchema = RelationSchema.fromSettings(settings.relations);
    this.store = createServingStore(settings.store, relationSchema, this.logger, this.metrics.store);
    this.relations = relationChecker(this.store, relationSchema);
    this.issuers = settings.issuers.map((issuer) => ({
      settings: issuer,
      keys: new KeySet(issuer.jwksFile ? fileLoader(issuer.jwksFile) : uriLoader(issuer.jwksUri!, issuer.jwksTimeout), {
        refreshIntervalMs: issuer.jwksRefreshInterval,
        minRefreshIntervalMs: issuer.jwksMinRefreshInterval,
        onFetch: (result, error) => {
          this.metrics.jwksFetches.inc({ issuer: issuer.name, result });
          if (error) this.logger.warn({ issuer: issuer.name, err: error.message }, 'JWKS fetch failed');
          this.updateServing();
        },
      }),
    }));
    const authenticator = new Authenticator(this.issuers, new TokenCache(settings.jwt.cacheSize, settings.jwt.cacheMaxTtl), {
      clockSkewMs: settings.jwt.clockSkew,
      maxTokenBytes: settings.jwt.maxTokenBytes,
      maxTokenLifetimeMs: settings.jwt.maxTokenLifetime,
      onCacheLookup: (hit) => (hit ? this.metrics.tokenCacheHits : this.metrics.tokenCacheMisses).inc(),
    });
    this.identityTokens = settings.internalToken && new InternalTokenIssuer(settings.internalToken);
    this.proxyAndOpaque = proxyAndOpaqueProviders(settings, this.metrics, this.logger);
    this.storeCredentials = storeCredentials(settings, this.store, this.logger);
    this.policies = new PolicySource({
      dir: settings.policies.dir,
      ...policyCompileOptions(settings),
      relationSchema,
      logger: this.logger,
      onReload: (result) => {
        this.metrics.policyReloads.inc({ result });
        this.updateServing();
      },
    });
    const trustedProxies = trustedProxyList(settings.network.trustedProxies);
    this.shadow =
      settings.shadow &&
      new Shadow({
        settings: settings.shadow,
        compile: { ...policyCompileOptions(settings), relationSchema },
        store: this.store,
        relations: this.relations,
        limits: settings.limits,
        ...(trustedProxies && { trustedProxies }),
        registry: this.metrics.registry,
        audit: (record) => this.audit.shadowDisagreement(record),
        logger: this.logger,
      });
    this.pipeline = new Pipeline({
      policies: () => this.policies.current,
      authenticator: new IdentityPhase({ jwt: authenticator, ...this.proxyAndOpaque.providers, ...this.storeCredentials.providers }),
      store: this.store,
      relations: this.relations,
      limits: settings.limits,
      trustedProxies,
      ...(settings.denyPage && { denyPage: settings.denyPage }),
      ...(this.identityTokens && { identityTokens: this.identityTokens }),
      ...(this.shadow && { shadow: this.shadow.hook }),
      onDecision: (decision, input) => {
        this.metrics.recordDecision(decision);
        this.audit.decision(decision, input, decision.service ? this.policies.current?.route(decision.service, '')?.recorded : undefined);
      },
    });
    this.grpc = new GrpcServer({
      listen: settings.grpc.listen,
      maxMessageBytes: settings.grpc.maxMessageBytes,
      pipeline: this.pipeline,
      logger: this.logger,
    });
    this.admin =
      options.admin === false ? undefined : new AdminServer({ listen: settings.admin.listen, registry: this.metrics.registry, readiness: () => this.readiness(), jwks: () => this.identityTokens?.jwks });
    this.httpCheck = settings.http && new HttpCheckServer({ listen: settings.http.listen, pipeline: this.pipeline, logger: this.logger });
  }

  /** Loads policies and keys, then listens. Serves (and reports not ready) even when loading failed. */
  async start(): Promise<RunningPorts> {
    await this.load();
    const [grpc, admin, http] = await Promise.all([this.grpc.start(), this.admin?.start(), this.httpCheck?.start()]);
    this.updateServing();
    const readiness = this.readiness();
    this.logger.info({ grpcPort: grpc, adminPort: admin, httpPort: http, ready: readiness.ready, problems: readiness.problems }, 'keycard listening');
    return { grpc, ...(admin !== undefined && { admin }), ...(http !== undefined && { http }) };
  }

  /**
   * Loads policies (and starts watching them) and, unless `keys` is false, the issuers' keys and
   * the internal token's signing key (a bad key file throws ConfigError), without listening.
   * Offline tools that never see a token skip the keys (and the network).
   */
  async load({ keys = true }: { keys?: boolean } = {}): Promise<Readiness> {
    // First, so that a bad key file fails the start before any watcher or timer keeps the process up.
    if (keys) await this.identityTokens?.load();
    if (keys) this.proxyAndOpaque.loadSecrets();
    if (keys) this.storeCredentials.requireSecrets();
    await this.policies.reload();
    if (this.settings.policies.watch) this.policies.watch();
    // A broken or missing candidate is reported, never a reason to fail or be not ready.
    await this.shadow?.load();
    if (keys) await Promise.all(this.issuers.map((issuer) => issuer.keys.start()));
    return this.readiness();
  }

  /**
   * Ready when policies and every issuer's keys are loaded and, unless `store` is false, the live
   * store is healthy (a memory store always is). /readyz shows all of it.
   */
  readiness({ store = true }: { store?: boolean } = {}): Readiness {
    const problems: string[] = [];
    const policyError = this.policies.lastError;
    if (!this.policies.current) {
      problems.push(...(policyError ? policyError.issues.map(formatConfigIssue) : ['policies not loaded']));
    }
    for (const issuer of this.issuers) {
      if (!issuer.keys.ready) problems.push(`issuer ${issuer.settings.name}: signing keys not loaded`);
    }
    const health = store ? this.store.health() : { healthy: true };
    if (!health.healthy) problems.push(`store ${this.store.kind}: ${health.detail ?? 'unhealthy'}`);
    const warnings = this.shadow?.warnings() ?? [];
    return { ready: problems.length === 0, problems, ...(warnings.length > 0 && { warnings }) };
  }

  /** Graceful stop: health goes NOT_SERVING, in-flight Checks finish (up to the grace period). */
  async stop(): Promise<void> {
    this.policies.close();
    for (const issuer of this.issuers) issuer.keys.stop();
    await Promise.all([this.grpc.stop(this.settings.shutdown.gracePeriod), this.admin?.stop(), this.httpCheck?.stop()]);
    // Evaluations already scheduled may still write their disagreement lines.
    await this.shadow?.close();
    await this.store.close();
    this.audit.flush();
  }

  private updateServing(): void {
    // gRPC health says whether keycard can decide at all. With the store down it still answers
    // (stale where a policy allows it, else 503 store_unavailable), so store health is left out.
    this.grpc?.setServing(this.readiness({ store: false }).ready ? 'SERVING' : 'NOT_SERVING');
  }
}

