// Holds the enforced PolicySet and reloads it when the policy directory, or an API description a
// policy names, changes. A reload that fails keeps the last good set and reports why; until a
// first set loads, keycard is not ready. Reloads run one at a time, in the order asked for, so
// the set in force is always the one loaded last.
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, formatConfigIssue } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ApiDescriptionCache } from '../registry/api-cache.js';
import type { CompileOptions } from './compile.js';
import { loadPolicySet } from './load-policies.js';
import type { PolicySet } from './policy-set.js';

export interface PolicySourceOptions extends CompileOptions {
  readonly dir: string;
  readonly logger: Logger;
  readonly onReload?: (result: 'ok' | 'error') => void;
  /** Quiet time after the last change before reloading (editors and ConfigMaps write in bursts). */
  readonly debounceMs?: number;
  /**
   * Log each load's result ("policies loaded", "not ready"). False when the owner says what a load
   * means itself (the shadow set is never "not ready"); watcher problems are logged either way.
   */
  readonly logLoads?: boolean;
}

export class PolicySource {
  private set: PolicySet | undefined;
  private error: ConfigError | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watching = false;
  /** Descriptions stay parsed between reloads; only a changed document is parsed again. */
  private readonly apiCache = new ApiDescriptionCache();
  /** The files the policies' API descriptions were read from at the last load. */
  private apiFiles: readonly string[] = [];
  /** Watchers of the directories holding those files (outside the policy directory), by directory. */
  private readonly apiWatchers = new Map<string, FSWatcher>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PolicySourceOptions) {}

  get current(): PolicySet | undefined {
    return this.set;
  }

  /** The problems of the last failed load, or undefined when the last load succeeded. */
  get lastError(): ConfigError | undefined {
    return this.error;
  }

  /** Loads the directory (after any reload already under way). Resolves true when a new set is in force. */
  reload(): Promise<boolean> {
    const run = this.queue.then(() => this.load());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<boolean> {
    const { logger } = this.options;
    try {
      const next = await loadPolicySet(this.options.dir, {
        ...this.options,
        apiCache: this.apiCache,
        onApiFiles: (files) => {
          this.apiFiles = files;
        },
      });
      const previous = this.set;
      this.set = next;
      this.error = undefined;
      this.options.onReload?.('ok');
      if (previous?.version !== next.version && this.options.logLoads !== false) {
        logger.info({ version: next.version, services: next.policies.map((p) => p.service) }, 'policies loaded');
      }
      return true;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.error = error;
      this.options.onReload?.('error');
      if (this.options.logLoads !== false) logger.error(
        { errors: error.issues.map(formatConfigIssue), keeping: this.set?.version ?? null },
        this.set ? 'policy reload failed; keeping the last good policies' : 'policies failed to load; not ready',
      );
      return false;
    } finally {
      if (this.watching) this.watchApiDirectories();
    }
  }

  /** Reloads on every change in the directory, and in the directories of the API descriptions (debounced). */
  watch(): void {
    this.watching = true;
    this.watcher = watch(this.options.dir, { persistent: false }, () => this.schedule());
    this.watcher.on('error', (error) => this.options.logger.error({ err: error }, 'policy directory watch failed'));
    this.watchApiDirectories();
  }

  close(): void {
    this.watching = false;
    clearTimeout(this.timer);
    this.watcher?.close();
    for (const watcher of this.apiWatchers.values()) watcher.close();
    this.apiWatchers.clear();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reload().catch((error: unknown) => this.options.logger.error({ err: error }, 'policy reload failed unexpectedly; keeping the last good policies'));
    }, this.options.debounceMs ?? 200);
  }

  /**
   * Watches the directories (not the files: editors and ConfigMaps replace files) of the files the
   * descriptions were read from. Any change there reloads; unchanged descriptions come from the cache.
   */
  private watchApiDirectories(): void {
    const policyDir = resolve(this.options.dir);
    const wanted = new Set(this.apiFiles.map((file) => dirname(file)).filter((dir) => dir !== policyDir));
    for (const [dir, watcher] of this.apiWatchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.apiWatchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.apiWatchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, () => this.schedule());
        watcher.on('error', (error) => this.options.logger.error({ err: error, dir }, 'API description directory watch failed'));
        this.apiWatchers.set(dir, watcher);
      } catch (error) {
        // The directory is gone: the next load reports the missing document.
        this.options.logger.warn({ err: (error as Error).message, dir }, 'cannot watch the directory of an API description');
      }
    }
  }
}
