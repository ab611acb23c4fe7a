// Builds the AuthZEN listener from keycard's parts (composition root: app.ts calls this once).
import type { Settings } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import type { IdentityAuthenticator } from '../pipeline/pipeline.js';
import type { StateStore } from '../state/store.js';
import type { Tracing } from '../tracing/tracer.js';
import type { Registry } from 'prom-client';
import type { AccessModel } from './access-model.js';
import { AuthzenApi } from './api.js';
import { AuthzenMetrics } from './authzen-metrics.js';
import { CallerGate } from './caller.js';
import { AuthzenServer } from './server.js';
import type { AuthzenSettings } from './settings.js';

export interface AuthzenParts {
  readonly settings: Settings & { readonly authzen: AuthzenSettings };
  readonly model: AccessModel;
  readonly authenticator: IdentityAuthenticator;
  readonly store: StateStore;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Settings `tracing`; undefined when off. */
  readonly tracing?: Tracing;
}

export function createAuthzenServer(parts: AuthzenParts): AuthzenServer {
  const { settings, model, store, logger } = parts;
  const metrics = new AuthzenMetrics(parts.registry);
  const gate = new CallerGate({ authenticator: parts.authenticator, authentication: settings.authzen.callerAuthentication, store, model });
  const api = new AuthzenApi({
    model,
    gate,
    store,
    settings: settings.authzen,
    logger,
    onDecision: (endpoint, decision) => metrics.decision(endpoint, decision),
  });
  return new AuthzenServer({
    settings: settings.authzen,
    api,
    gate,
    logger,
    maxHeaderBytes: settings.limits.maxHeaderBytes,
    ...(parts.tracing && { tracing: parts.tracing }),
    onAnswer: (endpoint, status) => metrics.request(endpoint, status),
  });
}
