// Checks, with a real gRPC client, that the server answers the benchmark's request with gRPC
// status OK and the expected decision; and reads keycard's decision counters, so that every
// request h2load sent (it sees only HTTP 200) can be shown to have been allowed.
import { check, createCheckClient } from '../../src/protocol/check-client.js';
import type { CheckRequest } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { ServerUnderTest } from './servers.js';
import { SUBJECT } from './scenario.js';

/** Sends `count` Checks over a fresh connection; throws unless each is an allow (for keycard: with alice's identity headers). */
export async function verifyAllows(server: ServerUnderTest, request: CheckRequest, keycard: boolean, count = 5): Promise<void> {
  const client = createCheckClient(server.grpcAddress);
  try {
    for (let i = 0; i < count; i++) {
      const response = await check(client, request);
      const problem =
        response.status?.code !== 0
          ? `gRPC Check status ${response.status?.code} (${response.status?.message}) instead of 0 (allow): ${response.denied_response?.body ?? ''}`
          : !response.ok_response
            ? 'no ok_response in an allow'
            : keycard && response.ok_response.headers.find((h) => h.header?.key === 'x-keycard-subject')?.header?.value !== SUBJECT
              ? `x-keycard-subject is not ${SUBJECT}`
              : undefined;
      if (problem) throw new Error(`${server.grpcAddress}: ${problem}`);
    }
  } finally {
    client.close();
  }
}

export interface DecisionCounts {
  readonly allow: number;
  readonly other: number;
}

/** keycard_decisions_total from the admin port: allows, and everything else (denies, dry-run denies). */
export async function decisionCounts(adminUrl: string): Promise<DecisionCounts> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let allow = 0;
  let other = 0;
  for (const match of text.matchAll(/^keycard_decisions_total\{([^}]*)\} (\d+)/gm)) {
    if (match[1]!.includes('decision="allow"')) allow += Number(match[2]);
    else other += Number(match[2]);
  }
  return { allow, other };
}
