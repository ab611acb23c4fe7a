// The client authentication of the settings' `introspection:` endpoints: each client secret is
// read once, when keycard loads its keys, from the named file or environment variable. A missing
// or empty secret, or an endpoint that would receive it unencrypted, is a located ConfigError;
// the secret itself is never part of a message.
import { readFileSync } from 'node:fs';
import type { IntrospectionEndpointSettings } from '../../config/credential-settings.js';
import { ConfigError, type ConfigIssue } from '../../errors.js';
import { isLoopbackHost } from '../../config/loopback.js';
import { basicAuthorization } from './introspection-client.js';

export type SecretEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The `Authorization` header value for each endpoint, by name.
 * @param file the settings file, for messages.
 * @param env where `clientSecretEnv` is looked up; process.env by default.
 */
export function readClientAuthorizations(endpoints: readonly IntrospectionEndpointSettings[], file: string, env: SecretEnvironment = process.env): Map<string, string> {
  const issues: ConfigIssue[] = [];
  const authorizations = new Map<string, string>();
  endpoints.forEach((settings, index) => {
    const issue = (key: string, message: string) => issues.push({ code: 'invalid_value', file, key: `introspection[${index}].${key}`, message });
    const url = new URL(settings.endpoint);
    if (url.username !== '' || url.password !== '') issue('endpoint', 'put the client credentials in clientId and clientSecretFile/clientSecretEnv, not in the URL');
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) issue('endpoint', 'the endpoint must use https (http only for loopback addresses): the client secret and tokens travel to it');
    const secret = readSecret(settings, env, issue);
    if (secret !== undefined) authorizations.set(settings.name, basicAuthorization(settings.clientId, secret));
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return authorizations;
}

function readSecret(settings: IntrospectionEndpointSettings, env: SecretEnvironment, issue: (key: string, message: string) => void): string | undefined {
  if (settings.clientSecretFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(settings.clientSecretFile, 'utf8');
    } catch (error) {
      issue('clientSecretFile', `cannot read ${settings.clientSecretFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      return undefined;
    }
    // Secret files usually end with a newline; the secret does not.
    const secret = text.replace(/\r?\n$/, '');
    if (secret !== '') return secret;
    issue('clientSecretFile', `${settings.clientSecretFile} is empty`);
    return undefined;
  }
  const name = settings.clientSecretEnv!;
  const secret = env[name];
  if (secret !== undefined && secret !== '') return secret;
  issue('clientSecretEnv', `the environment variable ${name} is not set or empty`);
  return undefined;
}
