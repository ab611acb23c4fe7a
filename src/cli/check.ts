// `keycard check`: one request, decided in-process (with the explanation) or by a running server.
import { parseArgs } from 'node:util';
import { Keycard } from '../app.js';
import { loadSettings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import { buildCheckRequest, check, createCheckClient, httpStatusNumber, type HttpRequestSpec } from '../protocol/check-client.js';
import { checkRequestToInput } from '../protocol/check-request.js';
import type { CheckRequest__Output } from '../protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import { configPath, UsageError } from './usage.js';

/** Returns the process exit code: 0 allow, 1 deny. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      server: { type: 'string' },
      method: { type: 'string', default: 'GET' },
      host: { type: 'string', default: 'localhost' },
      path: { type: 'string' },
      service: { type: 'string' },
      token: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      source: { type: 'string' },
    },
  });
  if (!values.path) throw new UsageError('check needs --path');
  const headers: Record<string, string> = {};
  for (const header of values.header) {
    const colon = header.indexOf(':');
    if (colon < 1) throw new UsageError(`--header: "${header}" is not "name: value"`);
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  if (values.token) headers.authorization = `Bearer ${values.token}`;
  const spec: HttpRequestSpec = { method: values.method.toUpperCase(), host: values.host, path: values.path, headers, service: values.service, sourceAddress: values.source };
  return values.server ? checkRemote(values.server, spec) : checkLocal(configPath(values.config), spec);
}

async function checkRemote(server: string, spec: HttpRequestSpec): Promise<number> {
  const client = createCheckClient(server);
  try {
    const response = await check(client, buildCheckRequest(spec));
    const allowed = response.status?.code === 0;
    const http = allowed ? response.ok_response : response.denied_response;
    const headerList = http?.headers.map((option) => `${option.header?.key}: ${option.header?.value}`) ?? [];
    console.log(JSON.stringify({
      decision: allowed ? 'allow' : 'deny',
      grpc_status: response.status?.code,
      http_status: allowed ? 200 : httpStatusNumber(response.denied_response?.status?.code),
      headers: headerList,
      headers_to_remove: response.ok_response?.headers_to_remove,
      body: response.denied_response?.body ? JSON.parse(response.denied_response.body) as unknown : undefined,
    }, null, 2));
    return allowed ? 0 : 1;
  } finally {
    client.close();
  }
}

async function checkLocal(config: string, spec: HttpRequestSpec): Promise<number> {
  const settings = loadSettings(config);
  const keycard = new Keycard({ ...settings, audit: { output: 'off' }, policies: { ...settings.policies, watch: false } }, createLogger('error'));
  try {
    await keycard.load();
    const input = checkRequestToInput(buildCheckRequest(spec) as CheckRequest__Output);
    const decision = await keycard.pipeline.decide(input);
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
    return decision.allowed ? 0 : 1;
  } finally {
    await keycard.stop();
  }
}
