// Span and attribute names. OpenTelemetry semantic-convention names where one fits (stable ones
// only); keycard.* for what is keycard's own. Never a credential, a cookie or a header value other
// than the request id: every value here is a catalogue code, a configured name, a number or an id
// keycard or the proxy made.
//
// The semantic-convention names are written out rather than imported, so that keycard without
// tracing does not load @opentelemetry/semantic-conventions; test/tracing/attributes.test.ts
// checks each against the package's constant.
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_RPC_METHOD = 'rpc.method';
export const ATTR_RPC_SYSTEM_NAME = 'rpc.system.name';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_URL_FULL = 'url.full';
export const RPC_SYSTEM_NAME_VALUE_GRPC = 'grpc';
/** process.pid is still experimental in the conventions: no stable constant to check it against. */
export const ATTR_PROCESS_PID = 'process.pid';

export const SPAN_CHECK = 'keycard.check';
/** Phase spans are `keycard.<phase>`: route, identity, state, authorize, respond. */
export const SPAN_PHASE_PREFIX = 'keycard.';
/** Store spans are `keycard.store.<op>`, op a StoreReadOp (rolesFor, subjectsOf, revocationFor, apiKey, session, subjectProperties). */
export const SPAN_STORE_PREFIX = 'keycard.store.';
export const SPAN_JWKS_FETCH = 'keycard.jwks.fetch';
/** One AuthZEN request (SERVER, child of the caller's span). */
export const SPAN_AUTHZEN = 'keycard.authzen';
/** The AuthZEN caller's authentication, under the request span (its store reads and JWKS fetches under it). */
export const SPAN_AUTHZEN_CALLER = 'keycard.authzen.caller';
/** One evaluation of an AuthZEN request: a decision with the same phase children and attributes as keycard.check. */
export const SPAN_EVALUATION = 'keycard.evaluation';

export const KEYCARD_DECISION_ID = 'keycard.decision_id';
/** allow | deny | dry_run_deny. */
export const KEYCARD_DECISION = 'keycard.decision';
/** The deny reason code (for dry_run_deny: the reason that was not enforced); `allowed` for allows. */
export const KEYCARD_REASON = 'keycard.reason';
/** The HTTP status keycard tells the proxy to answer with (200 for allows). */
export const KEYCARD_STATUS = 'keycard.status';
export const KEYCARD_SERVICE = 'keycard.service';
export const KEYCARD_RULE_ID = 'keycard.rule_id';
export const KEYCARD_POLICY_VERSION = 'keycard.policy_version';
/** jwt, envoy_jwt, api_key, introspection, session, mtls: how the caller authenticated. */
export const KEYCARD_CREDENTIAL = 'keycard.credential';
/** The configured issuer (or endpoint, api-key, session, mtls) that vouched for the caller. */
export const KEYCARD_ISSUER = 'keycard.issuer';
/** hit | miss: whether the bearer JWT was found in the verified-token cache. */
export const KEYCARD_TOKEN_CACHE = 'keycard.token_cache';
/** The proxy's request id (x-request-id / Envoy's request id), to join logs and the audit line. */
export const KEYCARD_REQUEST_ID = 'keycard.request_id';
/** memory | redis. */
export const KEYCARD_STORE_KIND = 'keycard.store.kind';
/** hit | miss: whether the store read was answered from keycard's read cache. */
export const KEYCARD_STORE_CACHE = 'keycard.store.cache';
/** ok | stale | error: stale is a cached answer served because the store failed (within maxStale). */
export const KEYCARD_STORE_RESULT = 'keycard.store.result';
/** The JWKS file (jwksFile issuers). */
export const KEYCARD_JWKS_FILE = 'keycard.jwks.file';

/** evaluation, evaluations, searchSubject, searchResource, searchAction (as the keycard_authzen_* metrics label them). */
export const KEYCARD_AUTHZEN_ENDPOINT = 'keycard.authzen.endpoint';
/** The resource type an evaluation asks about (a type some policy names: others are refused before deciding). */
export const KEYCARD_AUTHZEN_RESOURCE_TYPE = 'keycard.authzen.resource_type';
/** The action an evaluation asks about. Never the subject or resource id, properties or context. */
export const KEYCARD_AUTHZEN_ACTION = 'keycard.authzen.action';
/** Decisions an AuthZEN request made (a search's per-candidate decisions are counted here, not spanned). */
export const KEYCARD_AUTHZEN_DECISIONS = 'keycard.authzen.decisions';
/** How many of them allowed. */
export const KEYCARD_AUTHZEN_ALLOWED = 'keycard.authzen.allowed';

/** The longest request id recorded: the header can come from outside. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** The longest AuthZEN resource type or action name recorded. */
export const MAX_NAME_LENGTH = 128;
