// A policy's `authentication:` section → AuthenticationConfig, checking every name it uses
// against what the settings file configures.
import type { AuthenticationConfig, CredentialSpec } from '../authn/credentials/types.js';
import type { YamlSource } from '../config/yaml-file.js';
import type { ConfigIssue } from '../errors.js';
import type { AuthenticationSpec, CredentialEntry } from './authentication-schema.js';

/** What the settings file configures that a policy's credentials may refer to. */
export interface CredentialSettingsView {
  /** Issuer names (`issuers:`). */
  readonly issuers: ReadonlySet<string>;
  /** Introspection endpoint names (`introspection:`). */
  readonly introspectionEndpoints: ReadonlySet<string>;
  /** Whether `apiKeys:` is configured (the pepper API keys are hashed with). */
  readonly apiKeys: boolean;
}

export function compileAuthentication(spec: AuthenticationSpec, source: YamlSource, settings: CredentialSettingsView, issues: ConfigIssue[]): AuthenticationConfig {
  const at = ['authentication'];
  const checkIssuers = (issuers: readonly string[] | undefined, path: PropertyKey[]) =>
    issuers?.forEach((issuer, index) => {
      if (!settings.issuers.has(issuer)) issues.push(source.issue('unknown_issuer', [...path, index], `issuer "${issuer}" is not configured in the settings file`));
    });
  if (!spec.credentials) {
    checkIssuers(spec.issuers, [...at, 'issuers']);
    return { credentials: [{ kind: 'jwt', header: 'authorization', issuers: spec.issuers, types: undefined }], onMultiple: spec.onMultiple };
  }
  const credentials = spec.credentials.map((entry, index): CredentialSpec => {
    const path = [...at, 'credentials', index, entry.kind];
    return toSpec(entry, path, { source, settings, issues, checkIssuers });
  });
  return { credentials, onMultiple: spec.onMultiple };
}

interface EntryContext {
  readonly source: YamlSource;
  readonly settings: CredentialSettingsView;
  readonly issues: ConfigIssue[];
  readonly checkIssuers: (issuers: readonly string[] | undefined, path: PropertyKey[]) => void;
}

function toSpec(entry: CredentialEntry, path: PropertyKey[], context: EntryContext): CredentialSpec {
  const { source, settings, issues, checkIssuers } = context;
  switch (entry.kind) {
    case 'jwt':
      checkIssuers(entry.options.issuers, [...path, 'issuers']);
      return { kind: 'jwt', header: entry.options.header, issuers: entry.options.issuers, types: entry.options.types };
    case 'envoyJwt':
      checkIssuers(entry.options.issuers, [...path, 'issuers']);
      return { kind: 'envoy_jwt', metadataKey: entry.options.metadataKey, header: entry.options.header, issuers: entry.options.issuers };
    case 'apiKey':
      if (!settings.apiKeys) issues.push(source.issue('credential_not_configured', path, 'API keys need `apiKeys:` (the hashing pepper) in the settings file'));
      return { kind: 'api_key', header: entry.options.header, query: entry.options.query };
    case 'introspection':
      entry.options.endpoints.forEach((name, index) => {
        if (!settings.introspectionEndpoints.has(name)) {
          issues.push(source.issue('credential_not_configured', [...path, 'endpoints', index], `introspection endpoint "${name}" is not configured in the settings file`));
        }
      });
      return { kind: 'introspection', header: entry.options.header, endpoints: entry.options.endpoints };
    case 'session':
      return { kind: 'session', cookie: entry.options.cookie };
    case 'mtls':
      return { kind: 'mtls', forwardedClientCert: entry.options.forwardedClientCert };
  }
}
