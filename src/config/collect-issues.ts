// Runs several loaders and keeps going past a broken one, so a command reports every broken file
// at once (lint, diff) instead of stopping at the first.
import { ConfigError, type ConfigIssue } from '../errors.js';

/** The loader's result, or undefined with its ConfigError's issues added to `issues`. Other errors propagate. */
export function collectIssues<T>(issues: ConfigIssue[], load: () => T): T | undefined {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
    return undefined;
  }
}

/** collectIssues() for an asynchronous loader (policies: their API descriptions load asynchronously). */
export async function collectIssuesAsync<T>(issues: ConfigIssue[], load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
    return undefined;
  }
}
