// The admin HTTP listener: /metrics (Prometheus, with keycard_ready), /healthz (the process is alive), /readyz
// (policies and keys are loaded; otherwise 503 with the reasons; warnings, such as a broken
// shadow policy set, shown either way), /.well-known/jwks.json (the public keys of keycard's
// internal identity tokens), and /explorer/ (the decision explorer, when enabled: it guards its
// own routes). In cluster mode the primary serves it, with the workers' metrics added up and
// their readiness.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import type { ListenAddress } from '../config/listen-address.js';
import { isExplorerPath } from '../explorer/http.js';
import { listenOn } from './listen.js';
import { withReadinessMetric } from './readiness-metric.js';

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready, e.g. the policy load errors. */
  readonly problems: readonly string[];
  /** Shown on /readyz but no reason to be not ready, e.g. a broken shadow policy set. */
  readonly warnings?: readonly string[];
}

/** A prom-client Registry, or anything else that renders metrics in a Prometheus format. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface AdminServerOptions {
  readonly listen: ListenAddress;
  readonly registry: MetricsSource;
  readonly readiness: () => Readiness | Promise<Readiness>;
  /** /healthz: 503 with the problems when this says not alive; always alive without it. */
  readonly liveness?: () => Readiness;
  /** /.well-known/jwks.json: the internal token's public keys; 404 without them (no `internalToken`). */
  readonly jwks?: () => JSONWebKeySet | undefined;
  /** /explorer and below: the decision explorer (settings `explorer.enabled`); 404 without it. */
  readonly explorer?: { handle(request: IncomingMessage, response: ServerResponse): Promise<void> };
}

/** Services cache the key set this long; a token with an unknown kid makes them fetch it again. */
const JWKS_MAX_AGE_SECONDS = 300;

export class AdminServer {
  private readonly server: Server;

  constructor(private readonly options: AdminServerOptions) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  async start(): Promise<number> {
    return listenOn(this.server, this.options.listen);
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    // The explorer answers its own methods (its try form is a POST) and checks who asks.
    if (this.options.explorer && isExplorerPath(path)) return this.options.explorer.handle(request, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/metrics': {
        // With keycard_ready, the readiness /readyz reports (readiness-metric.ts).
        const [metrics, { ready }] = await Promise.all([this.options.registry.metrics(), this.options.readiness()]);
        return send(response, 200, this.options.registry.contentType, withReadinessMetric(metrics, ready));
      }
      case '/healthz': {
        const alive = this.options.liveness?.() ?? { ready: true, problems: [] };
        return alive.ready
          ? send(response, 200, 'text/plain', 'ok\n')
          : send(response, 503, 'application/json', `${JSON.stringify({ alive: false, problems: alive.problems }, null, 2)}\n`);
      }
      case '/readyz': {
        const { ready, problems, warnings = [] } = await this.options.readiness();
        const shown = warnings.length > 0 ? { warnings } : {};
        if (ready && warnings.length === 0) return send(response, 200, 'text/plain', 'ready\n');
        return ready
          ? send(response, 200, 'application/json', `${JSON.stringify({ ready: true, problems: [], ...shown }, null, 2)}\n`)
          : send(response, 503, 'application/json', `${JSON.stringify({ ready: false, problems, ...shown }, null, 2)}\n`);
      }
      case '/.well-known/jwks.json': {
        const jwks = this.options.jwks?.();
        if (!jwks) return send(response, 404, 'text/plain', 'not found: no internal token is configured\n');
        return send(response, 200, 'application/json', JSON.stringify(jwks), `max-age=${JWKS_MAX_AGE_SECONDS}`);
      }
      default:
        return send(response, 404, 'text/plain', 'not found\n');
    }
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string, cacheControl = 'no-store'): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': cacheControl });
  response.end(body);
}
