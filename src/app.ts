// The composition root: builds every part of keycard from the settings and runs it.
import { Authenticator, type Issuer } from './authn/authenticator.js';
import { fileLoader, KeySet, uriLoader } from './authn/key-set.js';
import { proxyAndOpaqueProviders, type ProxyAndOpaqueProviders } from './authn/credentials/proxy-and-opaque-providers.js';
import { storeCredentials, type StoreCredentials } from './authn/credentials/store-credentials.js';
import { IdentityPhase } from './authn/identity-phase.js';
import { InternalTokenIssuer } from './authn/internal-token.js';
import { TokenCache } from './authn/token-cache.js';
import { AccessDecider } from './access/access-decider.js';
import { AuditLog } from './audit/audit-log.js';
import { policyCompileOptions, type Settings } from './config/settings.js';
import { formatConfigIssue } from './errors.js';
import { KeycardExplorer } from './explorer/keycard-explorer.js';
import { createLogger, type Logger } from './log/logger.js';
import { Metrics } from './metrics/metrics.js';
import { trustedProxyList } from './pipeline/client-address.js';
import { Pipeline } from './pipeline/pipeline.js';
import { PolicySource } from './policy/policy-source.js';
import { AdminServer, type Readiness } from './server/admin-server.js';
import { GrpcServer } from './server/grpc-server.js';
import { HttpCheckServer } from './server/http-check-server.js';
import { createAuthzenServer } from './authzen/authzen.js';
import { keycardAccessModel } from './authzen/keycard-model.js';
import type { AuthzenServer } from './authzen/server.js';
import type { RelationChecker } from './policy/conditions/types.js';
import { relationChecker } from './policy/relations/resolver.js';
import { Shadow } from './shadow/shadow.js';
import { RelationSchema } from './policy/relations/schema.js';
import { createServingStore } from './state/create-store.js';
import type { StateStore } from './state/store.js';
import { createTracing, type Tracing } from './tracing/tracer.js';

export interface RunningPorts {
  readonly grpc: number;
  /** Absent when the admin port is left to a cluster primary. */
  readonly admin?: number;
  /** The HTTP check listener's port, when `http` is configured. */
  readonly http?: number;
  /** The AuthZEN listener's port, when `authzen` is configured. */
  readonly authzen?: number;
}

export interface KeycardOptions {
  /** Serve the admin port (metrics, healthz, readyz). A cluster worker leaves it to the primary. Default true. */
  readonly admin?: boolean;
  /** Several processes write to the same stdout/stderr (cluster workers): keep each audit write whole. */
  readonly sharedOutput?: boolean;
  /**
   * Build the tracer the settings or OTEL_* variables ask for. Default true; offline tools (check,
   * test, replay) pass false: they serve no traced request, and must not load the SDK or open an
   * exporter to a collector because the environment names one.
   */
  readonly tracing?: boolean;
}

export class Keycard {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly policies: PolicySource;
  readonly store: StateStore;
  readonly pipeline: Pipeline;
  /** Access questions (AuthZEN): the same policies, evaluator and live state as the pipeline. */
  readonly access: AccessDecider;
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
  /** Settings `authzen`: the AuthZEN Authorization API for services' own questions. */
  private readonly authzen: AuthzenServer | undefined;
  /** Settings `tracing` (or OTEL_* variables); undefined when tracing is off. */
  private readonly tracing: Tracing | undefined;
  /** Settings `explorer.enabled`: recent decisions (here, or sent to a cluster primary) and "try a request". */
  readonly explorer: KeycardExplorer | undefined;

  constructor(
    private readonly settings: Settings,
    logger?: Logger,
    options: KeycardOptions = {},
  ) {
    this.logger = logger ?? createLogger(settings.log.level);
    this.metrics = new Metrics((service) => this.policies.current?.has(service) ?? false);
    this.tracing = options.tracing === false ? undefined : createTracing(settings.tracing, { metrics: this.metrics.traceSpans, logger: this.logger });
    this.audit = new AuditLog({ output: settings.audit.output, onDrop: () => this.metrics.auditDropped.inc(), sharedOutput: options.sharedOutput ?? false });
    const relationSchema = RelationSchema.fromSettings(settings.relations);
    const servingStore = createServingStore(settings.store, relationSchema, this.logger, this.tracing?.storeObserver(this.metrics.store) ?? this.metrics.store);
    this.store = this.tracing?.store(servingStore) ?? servingStore;
    this.relations = relationChecker(this.store, relationSchema);
    this.issuers = settings.issuers.map((issuer) => {
      const loader = issuer.jwksFile ? fileLoader(issuer.jwksFile) : uriLoader(issuer.jwksUri!, issuer.jwksTimeout);
      return {
        settings: issuer,
        keys: new KeySet(this.tracing?.jwksLoader(issuer, loader) ?? loader, {
          refreshIntervalMs: issuer.jwksRefreshInterval,
          minRefreshIntervalMs: issuer.jwksMinRefreshInterval,
          onFetch: (result, error) => {
            this.metrics.jwksFetches.inc({ issuer: issuer.name, result });
            if (error) this.logger.warn({ issuer: issuer.name, err: error.message }, 'JWKS fetch failed');
            this.updateServing();
          },
        }),
      };
    });
    const authenticator = new Authenticator(this.issuers, new TokenCache(settings.jwt.cacheSize, settings.jwt.cacheMaxTtl), {
      clockSkewMs: settings.jwt.clockSkew,
      maxTokenBytes: settings.jwt.maxTokenBytes,
      maxTokenLifetimeMs: settings.jwt.maxTokenLifetime,
      onCacheLookup: (hit) => {
        (hit ? this.metrics.tokenCacheHits : this.metrics.tokenCacheMisses).inc();
        this.tracing?.tokenCacheLookup(hit);
      },
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
    this.explorer = settings.explorer.enabled
      ? new KeycardExplorer({
          settings: settings.explorer,
          settingsFile: settings.file,
          adminListen: settings.admin.listen,
          // A cluster worker sends its records to the primary, which serves the explorer.
          forward: options.admin === false,
          tryDeps: () => ({ policies: this.policies.current, store: this.store, relations: this.relations, trustedProxies, issuers: settings.issuers.map((issuer) => issuer.name) }),
          onDrop: () => this.metrics.explorerRecordsDropped.inc(),
        })
      : undefined;
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
    // One identity phase: Check's callers and AuthZEN's callers authenticate alike.
    const identityPhase = new IdentityPhase({ jwt: authenticator, ...this.proxyAndOpaque.providers, ...this.storeCredentials.providers });
    this.pipeline = new Pipeline({
      policies: () => this.policies.current,
      authenticator: identityPhase,
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
        this.explorer?.record(decision, input);
      },
    });
    this.access = new AccessDecider({
      policies: () => this.policies.current,
      store: this.store,
      relations: this.relations,
      onDecision: (decision, question, purpose) => {
        this.metrics.recordDecision(decision);
        this.audit.accessDecision(decision, question);
        // A search page tries up to search.maxChecksPerPage candidates: listed, they would push
        // every Check decision out of the explorer's ring. The audit log keeps them all.
        if (purpose !== 'search') this.explorer?.recordAccess(decision, question);
      },
      ...(this.shadow && { shadow: this.shadow.accessHook }),
    });
    this.grpc = new GrpcServer({
      listen: settings.grpc.listen,
      maxMessageBytes: settings.grpc.maxMessageBytes,
      pipeline: this.pipeline,
      logger: this.logger,
      ...(this.tracing && { tracing: this.tracing }),
    });
    this.admin =
      options.admin === false
        ? undefined
        : new AdminServer({
            listen: settings.admin.listen,
            registry: this.metrics.registry,
            readiness: () => this.readiness(),
            jwks: () => this.identityTokens?.jwks,
            ...(this.explorer?.served && { explorer: this.explorer.served.routes }),
          });
    this.httpCheck = settings.http && new HttpCheckServer({ listen: settings.http.listen, pipeline: this.pipeline, logger: this.logger, ...(this.tracing && { tracing: this.tracing }) });
    this.authzen =
      settings.authzen &&
      createAuthzenServer({
        settings: { ...settings, authzen: settings.authzen },
        model: keycardAccessModel(this.access, () => this.policies.current),
        authenticator: identityPhase,
        store: this.store,
        registry: this.metrics.registry,
        logger: this.logger,
        ...(this.tracing && { tracing: this.tracing }),
      });
  }

  /** Loads policies and keys, then listens. Serves (and reports not ready) even when loading failed. */
  async start(): Promise<RunningPorts> {
    // Before anything listens: a missing admin token file is a startup error, not an open explorer.
    this.explorer?.served?.adminToken.load();
    await this.load();
    const [grpc, admin, http, authzen] = await Promise.all([this.grpc.start(), this.admin?.start(), this.httpCheck?.start(), this.authzen?.start()]);
    this.updateServing();
    const readiness = this.readiness();
    this.logger.info({ grpcPort: grpc, adminPort: admin, httpPort: http, authzenPort: authzen, ready: readiness.ready, problems: readiness.problems }, 'keycard listening');
    return { grpc, ...(admin !== undefined && { admin }), ...(http !== undefined && { http }), ...(authzen !== undefined && { authzen }) };
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
    await Promise.all([this.grpc.stop(this.settings.shutdown.gracePeriod), this.admin?.stop(), this.httpCheck?.stop(), this.authzen?.stop(this.settings.shutdown.gracePeriod)]);
    // Evaluations already scheduled may still write their disagreement lines.
    await this.shadow?.close();
    await this.store.close();
    // Last: the Checks that just finished end their spans, which are exported before keycard exits.
    await this.tracing?.shutdown();
    this.audit.flush();
  }

  private updateServing(): void {
    // gRPC health says whether keycard can decide at all. With the store down it still answers
    // (stale where a policy allows it, else 503 store_unavailable), so store health is left out.
    this.grpc?.setServing(this.readiness({ store: false }).ready ? 'SERVING' : 'NOT_SERVING');
  }
}

