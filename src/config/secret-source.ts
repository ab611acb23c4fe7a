// Secrets the settings name but never hold: each is read from a file or an environment variable
// (one of the two; the settings schemas check that). Every reader of a secret (the API key
// pepper, introspection client secrets, the explorer's admin token) reads it here, so they fail
// the same way: a located ConfigError naming the settings key, never the secret.
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../errors.js';

export interface SecretEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

export const PROCESS_ENVIRONMENT: SecretEnvironment = { env: process.env, readFile: (path) => readFileSync(path, 'utf8') };

/** Where a secret is: `file` or `env`, and the settings keys that name them (for messages). */
export interface SecretSource {
  readonly file?: string;
  readonly env?: string;
  /** e.g. `apiKeys.pepperFile`. */
  readonly fileKey: string;
  /** e.g. `apiKeys.pepperEnv`. */
  readonly envKey: string;
  /** What the secret is, in words: `the API key pepper`. */
  readonly what: string;
}

/** The secret's text as stored (the caller trims it as its format wants) and the settings key it came through. */
export interface SecretText {
  readonly text: string;
  readonly key: string;
}

export type SecretResult = { readonly ok: true; readonly secret: SecretText } | { readonly ok: false; readonly issue: ConfigIssue };

/** Reads the secret, or says why it cannot: the file is unreadable, or the variable is unset or empty. */
export function readSecretText(source: SecretSource, settingsFile: string, environment: SecretEnvironment = PROCESS_ENVIRONMENT): SecretResult {
  if (source.file !== undefined) {
    try {
      return { ok: true, secret: { text: environment.readFile(source.file), key: source.fileKey } };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return { ok: false, issue: { code: 'file_unreadable', file: settingsFile, key: source.fileKey, message: `${source.what} cannot be read from ${source.file}: ${reason}` } };
    }
  }
  const text = source.env === undefined ? undefined : environment.env[source.env];
  if (text === undefined || text === '') {
    return { ok: false, issue: { code: 'missing_key', file: settingsFile, key: source.envKey, message: `the environment variable ${source.env ?? '(none named)'} (${source.what}) is not set or empty` } };
  }
  return { ok: true, secret: { text, key: source.envKey } };
}

/** readSecretText, throwing its issue as a ConfigError. */
export function requireSecretText(source: SecretSource, settingsFile: string, environment?: SecretEnvironment): SecretText {
  const result = readSecretText(source, settingsFile, environment);
  if (!result.ok) throw new ConfigError([result.issue]);
  return result.secret;
}

/**
 * A secret whose strength matters (a pepper, a bearer token): surrounding whitespace trimmed, and
 * refused (naming the settings key, never the value) when shorter than `minBytes`.
 */
export function requireStrongSecret(source: SecretSource, settingsFile: string, minBytes: number, environment?: SecretEnvironment): Buffer {
  const { text, key } = requireSecretText(source, settingsFile, environment);
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length < minBytes) {
    const size = secret.length === 0 ? 'empty' : `${secret.length} bytes`;
    throw new ConfigError([{ code: 'invalid_value', file: settingsFile, key, message: `${source.what} is ${size}; it needs at least ${minBytes} (e.g. openssl rand -base64 32)` }]);
  }
  return secret;
}
