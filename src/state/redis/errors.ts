// Redis failures as clear, secret-free messages. A store operation that fails rejects with a
// RedisStoreError (the pipeline answers 503 store_unavailable); its message says what went wrong
// in keycard's words and never carries a password, whatever the underlying error held.

export class RedisStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisStoreError';
  }
}

/** Replaces every known secret in `text` with `***`. */
export class Redactor {
  private readonly secrets: readonly string[];

  constructor(secrets: readonly (string | undefined)[]) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = secrets.filter((secret): secret is string => secret !== undefined && secret !== '').sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      out = out.split(secret).join('***');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join('***');
    }
    return out;
  }
}

export interface FailureContext {
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** The connection's state and last error, e.g. "reconnecting; last error: connect ECONNREFUSED 127.0.0.1:7001". */
  readonly connection: () => string;
  readonly redactor: Redactor;
}

/** Turns whatever ioredis rejected with into a RedisStoreError naming the operation. */
export function storeFailure(operation: string, error: unknown, context: FailureContext): RedisStoreError {
  const message = error instanceof Error ? error.message : String(error);
  return new RedisStoreError(context.redactor.redact(`Redis ${operation} failed: ${explain(message, context)}`));
}

function explain(message: string, context: FailureContext): string {
  if (/enableOfflineQueue options is false|isn't ready and enableOfflineQueue/.test(message)) {
    return `not connected to Redis (${context.connection()})`;
  }
  if (message === 'Command timed out') return `Redis did not answer within ${context.commandTimeoutMs}ms`;
  if (message === 'Connection is closed.' || message.startsWith('Reached the max retries per request limit')) {
    return `the connection to Redis was lost before it answered (${context.connection()})`;
  }
  if (message.startsWith('WRONGTYPE')) {
    return `${message} — a key under "${context.keyPrefix}" holds data keycard did not write (does another application use this keyPrefix?)`;
  }
  if (message.startsWith('NOPERM') || message.startsWith('NOAUTH') || message.startsWith('WRONGPASS')) {
    return `${message} (check store.username, the password and the user's ACL)`;
  }
  return message;
}
