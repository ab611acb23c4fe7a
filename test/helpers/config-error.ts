// The located errors a loader reports, for tests that expect a load to fail.
import { ConfigError } from '../../src/errors.js';

/**
 * The ConfigError that `load` throws. Any other error is rethrown, and a load that succeeds fails
 * the test with `unexpected` as its message.
 */
export function configError(load: () => unknown, unexpected = 'loaded without error'): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(unexpected);
}
