// The explorer's admin bearer token: read once at start from the file or environment variable the
// settings name, and compared in constant time. Never logged, never echoed.
import { createHash, timingSafeEqual } from 'node:crypto';
import { requireStrongSecret, type SecretEnvironment } from '../config/secret-source.js';
import type { ExplorerSettings } from './settings.js';

/** Shorter tokens are refused: a guessable token would open the explorer to the whole cluster. */
export const MIN_ADMIN_TOKEN_BYTES = 16;

export class AdminToken {
  /** SHA-256 of the token: equal-length digests make the comparison constant-time whatever is presented. */
  private digest: Buffer | undefined;
  private loaded = false;

  constructor(
    private readonly settings: Pick<ExplorerSettings, 'adminTokenFile' | 'adminTokenEnv'>,
    private readonly settingsFile: string,
    private readonly environment?: SecretEnvironment,
  ) {}

  /** Whether the settings name a token at all (else only loopback is served). */
  get configured(): boolean {
    return this.settings.adminTokenFile !== undefined || this.settings.adminTokenEnv !== undefined;
  }

  /** Reads the token; throws ConfigError naming the settings key (never the value) when it is missing or too short. */
  load(): void {
    if (this.loaded) return;
    if (this.configured) {
      const { adminTokenFile: file, adminTokenEnv: env } = this.settings;
      const source = { file, env, fileKey: 'explorer.adminTokenFile', envKey: 'explorer.adminTokenEnv', what: 'the explorer admin token' };
      this.digest = sha256(requireStrongSecret(source, this.settingsFile, MIN_ADMIN_TOKEN_BYTES, this.environment));
    }
    this.loaded = true;
  }

  /** Whether `presented` is the token. False when none is configured or loaded (fail closed). */
  matches(presented: string): boolean {
    if (!this.digest) return false;
    return timingSafeEqual(sha256(Buffer.from(presented, 'utf8')), this.digest);
  }
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
