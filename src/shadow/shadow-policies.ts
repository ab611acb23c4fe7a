// The candidate policy set: a second PolicySource on the shadow directory, loaded and hot-reloaded
// like the enforced one but never enforced. A broken candidate is logged, counted and shown on
// /readyz as a warning; it never makes keycard not ready and never touches the enforced set.
import { formatConfigIssue } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { CompileOptions } from '../policy/compile.js';
import type { PolicySet } from '../policy/policy-set.js';
import { PolicySource } from '../policy/policy-source.js';

export interface ShadowPoliciesOptions extends CompileOptions {
  readonly dir: string;
  readonly watch: boolean;
  readonly logger: Logger;
  readonly onReload: (result: 'ok' | 'error') => void;
}

export class ShadowPolicies {
  private readonly source: PolicySource;
  private watchProblem: string | undefined;
  private loggedVersion: string | undefined;

  constructor(private readonly options: ShadowPoliciesOptions) {
    const { watch: _watch, logger: _logger, onReload: _onReload, ...compile } = options;
    this.source = new PolicySource({
      ...compile,
      // PolicySource's load messages speak of the enforced set ("not ready"); this class says what a
      // candidate's load means instead. Watcher problems still come from PolicySource.
      logger: options.logger.child({ policySet: 'shadow' }),
      logLoads: false,
      onReload: (result) => this.reloaded(result),
    });
  }

  get current(): PolicySet | undefined {
    return this.source.current;
  }

  /** Loads the candidate and, when configured, watches its directory. Never throws for a bad candidate. */
  async load(): Promise<void> {
    try {
      await this.source.reload();
    } catch (error) {
      // Not a ConfigError (those are reported through onReload): a bug must not stop keycard either.
      this.options.logger.error({ policySet: 'shadow', err: error }, 'shadow policies failed to load unexpectedly; enforcement is unchanged');
    }
    if (!this.options.watch) return;
    try {
      this.source.watch();
    } catch (error) {
      // A missing directory cannot be watched; the candidate stays as loaded (or absent).
      this.watchProblem = `not watching ${this.options.dir}: ${(error as Error).message}`;
      this.options.logger.error({ dir: this.options.dir, err: (error as Error).message }, 'shadow policy directory cannot be watched; enforcement is unchanged');
    }
  }

  /** What /readyz shows about the candidate; never a reason to be not ready. */
  warnings(): string[] {
    const warnings: string[] = [];
    const error = this.source.lastError;
    if (error) {
      const keeping = this.source.current ? ` (keeping shadow version ${this.source.current.version})` : '';
      warnings.push(...error.issues.map((issue) => `shadow policies${keeping}: ${formatConfigIssue(issue)}`));
    } else if (!this.source.current) {
      warnings.push('shadow policies not loaded');
    }
    if (this.watchProblem) warnings.push(`shadow policies: ${this.watchProblem}`);
    return warnings;
  }

  close(): void {
    this.source.close();
  }

  private reloaded(result: 'ok' | 'error'): void {
    const { logger } = this.options;
    this.options.onReload(result);
    const set = this.source.current;
    const error = this.source.lastError;
    if (result === 'ok' && set && set.version !== this.loggedVersion) {
      this.loggedVersion = set.version;
      logger.info({ policySet: 'shadow', version: set.version, services: set.policies.map((policy) => policy.service) }, 'shadow policies loaded');
    } else if (result === 'error') {
      logger.error(
        { policySet: 'shadow', errors: error?.issues.map(formatConfigIssue) ?? [], keeping: set?.version ?? null },
        'shadow policies failed to load; enforcement is unchanged',
      );
    }
  }
}
