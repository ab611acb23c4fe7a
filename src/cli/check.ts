// `keycard check`: one request, decided in-process (with the explanation) or by a running server.
// In-process, the caller is authenticated from --token (or an authorization header) like the
// server does, or given directly with --subject/--roles/--claim (offline: no token needed).
import { parseArgs } from 'node:util';
import { loadYamlFile } from '../config/yaml-file.js';
import { decideOffline, type OfflineCaller, type OfflineRequest } from '../pipeline/offline.js';
import { normalizeHost } from '../pipeline/normalize.js';
import { defaultIssuer, offlineRequestSchema, parseInstant } from '../pipeline/offline-schema.js';
import type { Decision } from '../pipeline/types.js';
import { buildCheckRequest, check, createCheckClient, httpStatusNumber, type HttpRequestSpec } from '../protocol/check-client.js';
import { checkRequestToInput } from '../protocol/check-request.js';
import type { CheckResponse__Output } from '../protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import type { CheckRequest__Output } from '../protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import { explainDecision, type ExplainOptions } from './explain.js';
import { exitTwoOnConfigError, openKeycard } from './offline-keycard.js';
import { configPath, UsageError } from './usage.js';

type Format = 'text' | 'json';

/** A request file may leave out anything the flags give (--path included). */
const requestFileSchema = offlineRequestSchema.partial();

/** Returns the process exit code: 0 allow, 1 deny, 2 error. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      server: { type: 'string' },
      request: { type: 'string' },
      method: { type: 'string' },
      host: { type: 'string' },
      path: { type: 'string' },
      service: { type: 'string' },
      token: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      source: { type: 'string' },
      principal: { type: 'string' },
      subject: { type: 'string' },
      issuer: { type: 'string' },
      roles: { type: 'string' },
      claim: { type: 'string', multiple: true, default: [] },
      now: { type: 'string' },
      format: { type: 'string', default: 'text' },
    },
  });
  const format = values.format;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format: "${format}" is not text or json`);

  const describesCaller = values.issuer !== undefined || values.roles !== undefined || values.claim.length > 0;
  const givenCaller = values.subject !== undefined || describesCaller || values.now !== undefined;
  if (givenCaller && values.server) throw new UsageError('--subject, --issuer, --roles, --claim and --now decide in-process: leave out --server');
  if (describesCaller && values.subject === undefined) throw new UsageError('--issuer, --roles and --claim describe a caller: add --subject');
  if (givenCaller && values.token) throw new UsageError('--token and --subject/--now are alternatives: authenticate a token, or give the caller');
  const now = values.now === undefined ? undefined : parseInstant(values.now);
  if (values.now !== undefined && now === undefined) throw new UsageError(`--now: "${values.now}" is not an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z`);

  return exitTwoOnConfigError(async () => {
    const file = values.request ? loadYamlFile(values.request, requestFileSchema).data : {};
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(file.headers ?? {})) headers[name.toLowerCase()] = value;
    for (const header of values.header) {
      const colon = header.indexOf(':');
      if (colon < 1) throw new UsageError(`--header: "${header}" is not "name: value"`);
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    }
    if (values.token) headers.authorization = `Bearer ${values.token}`;
    const path = values.path ?? file.path;
    if (!path) throw new UsageError('check needs --path, or --request FILE with a "path"');
    const request: OfflineRequest = {
      method: (values.method ?? file.method ?? 'GET').toUpperCase(),
      path,
      host: values.host ?? file.host,
      service: values.service ?? file.service,
      headers,
      source: values.source ?? file.source,
      principal: values.principal ?? file.principal,
    };

    if (values.server) return checkRemote(values.server, toSpec(request), format);
    const config = configPath(values.config);
    if (!givenCaller) return checkWithToken(config, request, format);
    if (headers.authorization !== undefined) throw new UsageError('--subject gives the caller: leave the authorization header out of the request');
    const caller: OfflineCaller = {
      subject: values.subject,
      ...(values.issuer !== undefined && { issuer: values.issuer }),
      ...(values.claim.length > 0 && { claims: parseClaims(values.claim) }),
      ...(values.roles !== undefined && { roles: parseRoles(values.roles) }),
    };
    return checkGivenCaller(config, request, caller, now, format);
  });
}

/** The request as Envoy would send it (host defaults to localhost, as it always has here). */
function toSpec(request: OfflineRequest): HttpRequestSpec {
  return { method: request.method, host: request.host ?? 'localhost', path: request.path, headers: request.headers, service: request.service, sourceAddress: request.source, sourcePrincipal: request.principal };
}

/** `--claim NAME=VALUE`: the value is read as JSON when it is JSON (numbers, lists), else as a string. */
export function parseClaims(pairs: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--claim: "${pair}" is not NAME=VALUE`);
    const name = pair.slice(0, eq);
    if (name === 'sub') throw new UsageError('--claim: the subject is --subject');
    const text = pair.slice(eq + 1);
    try {
      claims[name] = JSON.parse(text) as unknown;
    } catch {
      claims[name] = text;
    }
  }
  return claims;
}

function parseRoles(list: string): string[] {
  return list.split(',').map((role) => role.trim()).filter((role) => role !== '');
}

async function checkRemote(server: string, spec: HttpRequestSpec, format: Format): Promise<number> {
  const client = createCheckClient(server);
  try {
    const response = await check(client, buildCheckRequest(spec));
    const allowed = response.status?.code === 0;
    const result = remoteResult(response, allowed);
    if (format === 'json') {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`decision  ${result.decision} ${result.http_status ?? ''} (gRPC status ${result.grpc_status ?? '?'})`);
      if (result.body !== undefined) console.log(`body      ${JSON.stringify(result.body)}`);
      for (const header of result.headers) console.log(`header    ${header}`);
      for (const header of result.headers_to_remove ?? []) console.log(`removes   ${header}`);
    }
    return allowed ? 0 : 1;
  } finally {
    client.close();
  }
}

function remoteResult(response: CheckResponse__Output, allowed: boolean) {
  const http = allowed ? response.ok_response : response.denied_response;
  return {
    decision: allowed ? 'allow' : 'deny',
    grpc_status: response.status?.code,
    http_status: allowed ? 200 : httpStatusNumber(response.denied_response?.status?.code),
    headers: http?.headers.map((option) => `${option.header?.key}: ${option.header?.value}`) ?? [],
    headers_to_remove: response.ok_response?.headers_to_remove,
    body: response.denied_response?.body ? (JSON.parse(response.denied_response.body) as unknown) : undefined,
  };
}

/** In-process, authenticating the token (if any) exactly as the server would. */
async function checkWithToken(config: string, request: OfflineRequest, format: Format): Promise<number> {
  const { keycard, close } = await openKeycard(config, { keys: true });
  try {
    const input = checkRequestToInput(buildCheckRequest(toSpec(request)) as CheckRequest__Output);
    const decision = await keycard.pipeline.decide(input);
    return report(decision, { ...request, host: input.host }, { rolesFrom: 'store' }, format);
  } finally {
    await close();
  }
}

/** In-process with the caller given: no token, roles from the store unless --roles. */
async function checkGivenCaller(config: string, request: OfflineRequest, given: OfflineCaller, now: number | undefined, format: Format): Promise<number> {
  const { keycard, deps, policies, issuers, close } = await openKeycard(config);
  let caller = given;
  try {
    if (caller.issuer !== undefined && !issuers.includes(caller.issuer)) {
      throw new UsageError(`--issuer: "${caller.issuer}" is not an issuer of the settings file (${issuers.join(', ') || 'none'})`);
    }
    if (caller.subject !== undefined && caller.issuer === undefined) {
      const policy = policies.route(request.service, normalizeHost(request.host ?? ''));
      caller = { ...caller, issuer: defaultIssuer(policy, issuers) };
    }
    const state = { store: keycard.store, relations: keycard.relations, ...(now !== undefined && { now: () => now }) };
    const decision = await decideOffline({ ...deps, ...state }, request, caller);
    return report(decision, request, { rolesFrom: caller.roles ? 'given' : 'store' }, format);
  } finally {
    await close();
  }
}

function report(decision: Decision, request: OfflineRequest, options: ExplainOptions, format: Format): number {
  if (format === 'json') {
    const { identity } = decision;
    console.log(JSON.stringify({
      decision: decision.allowed ? 'allow' : 'deny',
      status: decision.status,
      reason: decision.reason,
      service: decision.service,
      rule: decision.ruleId,
      subject: identity.authenticated ? identity.subject : null,
      roles: decision.roles,
      path: decision.path,
      explanation: decision.trace,
      detail: decision.detail,
    }, null, 2));
  } else {
    console.log(explainDecision(decision, request, options).join('\n'));
  }
  return decision.allowed ? 0 : 1;
}
