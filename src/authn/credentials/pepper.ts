// The API key pepper: a deployment secret HMAC'd into every stored key hash. Read from the file or
// the environment variable the settings name, never from the settings file itself.
import type { ApiKeySettings } from '../../config/credential-settings.js';
import { requireStrongSecret, type SecretEnvironment } from '../../config/secret-source.js';

/** Shorter peppers are refused: the pepper is what makes a stolen store's hashes useless. */
export const MIN_PEPPER_BYTES = 16;

/**
 * The pepper (surrounding whitespace trimmed). Throws ConfigError naming the settings key when the
 * file cannot be read, the variable is unset, or the value is shorter than MIN_PEPPER_BYTES.
 */
export function loadPepper(settings: ApiKeySettings, settingsFile: string, environment?: SecretEnvironment): Buffer {
  const source = { file: settings.pepperFile, env: settings.pepperEnv, fileKey: 'apiKeys.pepperFile', envKey: 'apiKeys.pepperEnv', what: 'the API key pepper' };
  return requireStrongSecret(source, settingsFile, MIN_PEPPER_BYTES, environment);
}

/** loadPepper once, on first use (offline tools that never see an API key never need it). */
export function lazyPepper(settings: ApiKeySettings, settingsFile: string, environment?: SecretEnvironment): () => Buffer {
  let pepper: Buffer | undefined;
  return () => (pepper ??= loadPepper(settings, settingsFile, environment));
}
