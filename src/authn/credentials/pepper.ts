// The API key pepper: a deployment secret HMAC'd into every stored key hash. Read from the file or
// the environment variable the settings name, never from the settings file itself.
import { readFileSync } from 'node:fs';
import type { ApiKeySettings } from '../../config/credential-settings.js';
import { ConfigError, type ConfigIssue } from '../../errors.js';

/** Shorter peppers are refused: the pepper is what makes a stolen store's hashes useless. */
export const MIN_PEPPER_BYTES = 16;

export interface PepperEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

const PROCESS_ENVIRONMENT: PepperEnvironment = { env: process.env, readFile: (path) => readFileSync(path, 'utf8') };

/**
 * The pepper (surrounding whitespace trimmed). Throws ConfigError naming the settings key when the
 * file cannot be read, the variable is unset, or the value is shorter than MIN_PEPPER_BYTES.
 */
export function loadPepper(settings: ApiKeySettings, settingsFile: string, environment: PepperEnvironment = PROCESS_ENVIRONMENT): Buffer {
  const fail = (code: ConfigIssue['code'], key: string, message: string): never => {
    throw new ConfigError([{ code, file: settingsFile, key, message }]);
  };
  let value: string;
  let key: string;
  if (settings.pepperFile !== undefined) {
    key = 'apiKeys.pepperFile';
    try {
      value = environment.readFile(settings.pepperFile);
    } catch (error) {
      return fail('file_unreadable', key, `the API key pepper file ${settings.pepperFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else {
    key = 'apiKeys.pepperEnv';
    const env = environment.env[settings.pepperEnv!];
    if (env === undefined) return fail('missing_key', key, `the environment variable ${settings.pepperEnv} (the API key pepper) is not set`);
    value = env;
  }
  const pepper = Buffer.from(value.trim(), 'utf8');
  if (pepper.length < MIN_PEPPER_BYTES) {
    return fail('invalid_value', key, `the API key pepper is ${pepper.length === 0 ? 'empty' : `${pepper.length} bytes`}; it needs at least ${MIN_PEPPER_BYTES} (e.g. openssl rand -base64 32)`);
  }
  return pepper;
}

/** loadPepper once, on first use (offline tools that never see an API key never need it). */
export function lazyPepper(settings: ApiKeySettings, settingsFile: string, environment?: PepperEnvironment): () => Buffer {
  let pepper: Buffer | undefined;
  return () => (pepper ??= loadPepper(settings, settingsFile, environment));
}
