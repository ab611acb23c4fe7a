// The credential secrets a serving keycard cannot start without (the API key pepper, the
// introspection client secrets), read once to check them. A cluster primary calls this before it
// forks any worker, so a missing secret stops the start with one clear error instead of N workers
// failing one after another.
import type { Settings } from '../../config/settings.js';
import { readClientAuthorizations } from './introspection-endpoints.js';
import { loadPepper } from './pepper.js';

/** Throws ConfigError naming the setting (never the value) when a secret is missing or unusable. */
export function checkStartupSecrets(settings: Pick<Settings, 'apiKeys' | 'introspection' | 'file'>): void {
  if (settings.apiKeys) loadPepper(settings.apiKeys, settings.file);
  if (settings.introspection.length > 0) readClientAuthorizations(settings.introspection, settings.file);
}
