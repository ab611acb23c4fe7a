// Holds the enforced PolicySet and reloads it when the policy directory changes. A reload that
// fails keeps the last good set and reports why; until a first set loads, keycard is not ready.
import { watch, type FSWatcher } from 'node:fs';
import { ConfigError, formatConfigIssue } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { CompileOptions } from './compile.js';
import { loadPolicies } from './load-policies.js';
import type { PolicySet } from './policy-set.js';

export interface PolicySourceOptions extends CompileOptions {
  readonly dir: string;
  readonly logger: Logger;
  readonly onReload?: (result: 'ok' | 'error') => void;
  /** Quiet time after the last change before reloading (editors and ConfigMaps write in bursts). */
  readonly debounceMs?: number;
}

export class PolicySource {
  private set: PolicySet | undefined;
  private error: ConfigError | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PolicySourceOptions) {}

  get current(): PolicySet | undefined {
    return this.set;
  }

  /** The problems of the last failed load, or undefined when the last load succeeded. */
  get lastError(): ConfigError | undefined {
    return this.error;
  }

  /** Loads the directory now. Returns true when a new set is in force. */
  reload(): boolean {
    const { logger } = this.options;
    try {
      const next = loadPolicies(this.options.dir, this.options);
      const previous = this.set;
      this.set = next;
      this.error = undefined;
      this.options.onReload?.('ok');
      if (previous?.version !== next.version) {
        logger.info({ version: next.version, services: next.policies.map((p) => p.service) }, 'policies loaded');
      }
      return true;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.error = error;
      this.options.onReload?.('error');
      logger.error(
        { errors: error.issues.map(formatConfigIssue), keeping: this.set?.version ?? null },
        this.set ? 'policy reload failed; keeping the last good policies' : 'policies failed to load; not ready',
      );
      return false;
    }
  }

  /** Reloads on every change in the directory (debounced). */
  watch(): void {
    this.watcher = watch(this.options.dir, { persistent: false }, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.options.debounceMs ?? 200);
    });
    this.watcher.on('error', (error) => this.options.logger.error({ err: error }, 'policy directory watch failed'));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
