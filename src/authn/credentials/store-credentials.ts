// The credential providers backed by the live store (API keys, sessions), built from the settings
// for the composition root. The pepper is read on first use so offline tools that never see a key
// do not need it; a serving keycard reads it at start (requireSecrets) and refuses to start without.
import type { Settings } from '../../config/settings.js';
import type { Logger } from '../../log/logger.js';
import type { StateStore } from '../../state/store.js';
import type { CredentialProviders } from './types.js';
import { ApiKeyProvider } from './api-key.js';
import { lazyPepper } from './pepper.js';
import { SessionProvider } from './session.js';

export interface StoreCredentials {
  readonly providers: Pick<CredentialProviders, 'api_key' | 'session'>;
  /** Reads the API key pepper now; throws ConfigError when it is missing or too short. */
  requireSecrets(): void;
}

export function storeCredentials(settings: Pick<Settings, 'apiKeys' | 'sessions' | 'file'>, store: StateStore, logger: Logger): StoreCredentials {
  const pepper = settings.apiKeys && lazyPepper(settings.apiKeys, settings.file);
  const session = new SessionProvider({
    store,
    settings: settings.sessions,
    onTouchError: (error, sessionId) => logger.warn({ err: error.message, sessionId }, 'could not record session use (lastSeenAt); the request was not affected'),
  });
  return {
    providers: { session, ...(pepper && { api_key: new ApiKeyProvider({ store, pepper }) }) },
    requireSecrets: () => void pepper?.(),
  };
}
