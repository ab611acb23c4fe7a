// The one error catalogue. Every deny reason, metric `reason` label, log field and CLI message
// uses these codes, so the set of values is stable and bounded. Add codes; never rename them.

export type DenyStatus = 400 | 401 | 403 | 503;

interface DenySpec {
  readonly status: DenyStatus;
  /** Short, safe-to-show description. Details that could help an attacker stay in the audit log. */
  readonly message: string;
  /** RFC 6750 error code for the WWW-Authenticate header of 401 answers. */
  readonly bearerError?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication';
}

export const DENY_REASONS = {
  // Request shape (before any policy is consulted).
  invalid_path: { status: 400, message: 'the request path is not acceptable' },
  request_too_large: { status: 400, message: 'the request has too many or too large headers' },
  invalid_request: { status: 400, message: 'the check request is malformed' },
  // Routing.
  unknown_service: { status: 403, message: 'no policy serves this request' },
  unknown_resource_type: { status: 403, message: 'no policy answers access questions about this resource type' },
  // Authentication.
  authentication_required: { status: 401, message: 'authentication is required' },
  malformed_credential: { status: 401, message: 'the credential is malformed', bearerError: 'invalid_request' },
  token_too_large: { status: 401, message: 'the token is too large', bearerError: 'invalid_token' },
  malformed_token: { status: 401, message: 'the token is not a valid JWT', bearerError: 'invalid_token' },
  untrusted_issuer: { status: 401, message: 'the token issuer is not trusted here', bearerError: 'invalid_token' },
  disallowed_algorithm: { status: 401, message: 'the token algorithm is not allowed', bearerError: 'invalid_token' },
  unknown_key: { status: 401, message: 'the token was signed by an unknown key', bearerError: 'invalid_token' },
  invalid_signature: { status: 401, message: 'the token signature is invalid', bearerError: 'invalid_token' },
  token_expired: { status: 401, message: 'the token has expired', bearerError: 'invalid_token' },
  token_not_yet_valid: { status: 401, message: 'the token is not yet valid', bearerError: 'invalid_token' },
  invalid_audience: { status: 401, message: 'the token audience does not match', bearerError: 'invalid_token' },
  invalid_claims: { status: 401, message: 'the token claims are invalid', bearerError: 'invalid_token' },
  token_revoked: { status: 401, message: 'the token has been revoked', bearerError: 'invalid_token' },
  jwks_unavailable: { status: 503, message: 'the signing keys of the issuer are unavailable' },
  invalid_token_type: { status: 401, message: 'the token is not of a type accepted here', bearerError: 'invalid_token' },
  ambiguous_credentials: { status: 401, message: 'the request carries more than one credential', bearerError: 'invalid_request' },
  invalid_api_key: { status: 401, message: 'the API key is not valid' },
  api_key_expired: { status: 401, message: 'the API key has expired' },
  invalid_session: { status: 401, message: 'the session is not valid' },
  session_expired: { status: 401, message: 'the session has expired' },
  token_inactive: { status: 401, message: 'the token is not active', bearerError: 'invalid_token' },
  introspection_unavailable: { status: 503, message: 'the token introspection endpoint is unavailable' },
  invalid_peer_identity: { status: 401, message: 'the client certificate identity is not acceptable' },
  token_not_verified_by_proxy: { status: 401, message: 'the token was not verified by the proxy', bearerError: 'invalid_token' },
  // Authorization.
  explicit_deny: { status: 403, message: 'access is denied by policy' },
  no_matching_rule: { status: 403, message: 'no policy rule allows this request' },
  insufficient_scope: { status: 403, message: 'the token lacks a scope this request needs', bearerError: 'insufficient_scope' },
  insufficient_user_authentication: {
    status: 401,
    message: 'a stronger or more recent authentication is required',
    bearerError: 'insufficient_user_authentication',
  },
  relation_limit_reached: { status: 403, message: 'the relationship check exceeded its limits' },
  // keycard itself.
  store_unavailable: { status: 503, message: 'authorization state is unavailable' },
  not_ready: { status: 503, message: 'keycard has no valid policies loaded' },
  internal_error: { status: 403, message: 'the request could not be authorized' },
} as const satisfies Record<string, DenySpec>;

export type DenyReason = keyof typeof DENY_REASONS;

export function denySpec(reason: DenyReason): DenySpec {
  return DENY_REASONS[reason];
}

/** A failure inside a pipeline phase that maps to a deny with a catalogued reason. */
export class DenyError extends Error {
  constructor(
    readonly reason: DenyReason,
    /** Internal detail for logs and the audit trail; never sent to the client verbatim. */
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'DenyError';
  }
}

// Load-time errors for settings, policy and seed files. Each names file, line, column and key.
export const CONFIG_ERRORS = {
  file_unreadable: 'the file cannot be read',
  yaml_syntax: 'the file is not valid YAML',
  unknown_key: 'unknown key',
  missing_key: 'required key is missing',
  invalid_value: 'invalid value',
  duplicate_service: 'another policy file already defines this service',
  duplicate_host: 'another policy already claims this host',
  duplicate_rule_id: 'rule ids must be unique within a policy',
  unknown_issuer: 'the issuer is not configured in the settings file',
  credential_not_configured: 'the credential needs settings the settings file does not have',
  unknown_relation: 'the relation is not declared in the relation schema',
  invalid_path_template: 'invalid path template',
  rule_never_matches: 'this rule can never match',
  invalid_api_description: 'the OpenAPI document named by `api.openapi` is broken, invalid or not expressible as keycard routes',
  unknown_operation: 'no operation of the API description has this operationId',
  unknown_permission: 'no operation of the API description declares this x-keycard-permission',
  duplicate_resource_type: 'another policy already answers access questions about this resource type',
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERRORS;

export interface ConfigIssue {
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted key path, e.g. `rules[2].match.paths[0]`. */
  readonly key?: string;
  readonly message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const key = issue.key ? ` ${issue.key}:` : '';
  return `${where} [${issue.code}]${key} ${issue.message}`;
}

/** Thrown by loaders; carries every issue found, not just the first. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
  }
}
