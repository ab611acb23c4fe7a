// Builds the providers for opaque tokens (introspection), Envoy-verified JWTs (envoy_jwt) and
// mTLS peer identities from the settings, wired to metrics and logs. Used by the composition
// root (app.ts), which calls loadSecrets() when it loads keys.
import type { Settings } from '../../config/settings.js';
import type { Logger } from '../../log/logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import { trustedProxyList } from '../../pipeline/client-address.js';
import { EnvoyJwtProvider } from './envoy-jwt.js';
import { IntrospectionProvider } from './introspection.js';
import { MtlsProvider } from './mtls.js';

export interface ProxyAndOpaqueProviders {
  readonly providers: {
    readonly introspection?: IntrospectionProvider;
    readonly envoy_jwt: EnvoyJwtProvider;
    readonly mtls: MtlsProvider;
  };
  /** Reads the introspection client secrets (ConfigError when one is missing or empty). */
  loadSecrets(): void;
}

export function proxyAndOpaqueProviders(settings: Settings, metrics: Metrics, logger: Logger): ProxyAndOpaqueProviders {
  const introspection =
    settings.introspection.length === 0
      ? undefined
      : new IntrospectionProvider(settings.introspection, {
          clockSkewMs: settings.jwt.clockSkew,
          maxTokenBytes: settings.jwt.maxTokenBytes,
          observer: {
            cacheLookup: (endpoint, hit) => metrics.introspectionCacheLookups.inc({ endpoint, result: hit ? 'hit' : 'miss' }),
            request: (endpoint, result, detail) => {
              metrics.introspectionRequests.inc({ endpoint, result });
              if (detail !== undefined) logger.warn({ endpoint, result, detail }, 'token introspection failed');
            },
          },
        });
  return {
    providers: {
      ...(introspection && { introspection }),
      envoy_jwt: new EnvoyJwtProvider(settings.issuers, { clockSkewMs: settings.jwt.clockSkew, maxTokenLifetimeMs: settings.jwt.maxTokenLifetime }),
      mtls: new MtlsProvider({ trustedProxies: trustedProxyList(settings.network.trustedProxies) }),
    },
    loadSecrets: () => introspection?.loadSecrets(settings.file),
  };
}
