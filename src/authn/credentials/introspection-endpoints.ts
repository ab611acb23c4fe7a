// The client authentication of the settings' `introspection:` endpoints: each client secret is
// read once, when keycard loads its keys, from the named file or environment variable. A missing
// or empty secret, or an endpoint that would receive it unencrypted, is a located ConfigError;
// the secret itself is never part of a message.
import type { IntrospectionEndpointSettings } from '../../config/credential-settings.js';
import { ConfigError, type ConfigIssue } from '../../errors.js';
import { PROCESS_ENVIRONMENT, readSecretText, type SecretEnvironment } from '../../config/secret-source.js';
import { isLoopbackHost } from '../../config/loopback.js';
import { basicAuthorization } from './introspection-client.js';

/**
 * The `Authorization` header value for each endpoint, by name.
 * @param file the settings file, for messages.
 * @param environment where `clientSecretEnv` and `clientSecretFile` are read; the process's by default.
 */
export function readClientAuthorizations(endpoints: readonly IntrospectionEndpointSettings[], file: string, environment: SecretEnvironment = PROCESS_ENVIRONMENT): Map<string, string> {
  const issues: ConfigIssue[] = [];
  const authorizations = new Map<string, string>();
  endpoints.forEach((settings, index) => {
    const issue = (key: string, message: string) => issues.push({ code: 'invalid_value', file, key: `introspection[${index}].${key}`, message });
    const url = new URL(settings.endpoint);
    if (url.username !== '' || url.password !== '') issue('endpoint', 'put the client credentials in clientId and clientSecretFile/clientSecretEnv, not in the URL');
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) issue('endpoint', 'the endpoint must use https (http only for loopback addresses): the client secret and tokens travel to it');
    const secret = readClientSecret(settings, index, file, environment, issues);
    if (secret !== undefined) authorizations.set(settings.name, basicAuthorization(settings.clientId, secret));
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return authorizations;
}

function readClientSecret(settings: IntrospectionEndpointSettings, index: number, file: string, environment: SecretEnvironment, issues: ConfigIssue[]): string | undefined {
  const key = (name: string) => `introspection[${index}].${name}`;
  const what = `the client secret of introspection endpoint ${settings.name}`;
  const read = readSecretText({ file: settings.clientSecretFile, env: settings.clientSecretEnv, fileKey: key('clientSecretFile'), envKey: key('clientSecretEnv'), what }, file, environment);
  if (!read.ok) {
    issues.push(read.issue);
    return undefined;
  }
  // Secret files usually end with a newline; the secret does not.
  const secret = read.secret.text.replace(/\r?\n$/, '');
  if (secret === '') issues.push({ code: 'invalid_value', file, key: read.secret.key, message: `${what} is empty` });
  return secret === '' ? undefined : secret;
}
