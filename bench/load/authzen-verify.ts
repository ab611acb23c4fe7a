// Checks of the AuthZEN part that h2load cannot make (it sees only HTTP statuses): answers sampled
// with real clients (the package's AuthzenClient over HTTP/1.1 keep-alive, node:http2 over h2c),
// keycard's counters read from its admin port, and the commands the private Redis served.
import { connect } from 'node:http2';
import { AuthzenClient, type Decision } from '../../src/client/authzen-client.js';
import type { RedisServer } from '../../test/helpers/redis-server.js';
import { ALLOWED_QUESTION, BATCH_QUESTION, BATCH_SIZE, batchExpectation, DENIED_QUESTION, TODO_SERVICE } from './authzen-scenario.js';

/** HOST:PORT for HTTP/1.1 and for h2c (the same for keycard). */
export interface AuthzenAddresses {
  readonly http1: string;
  readonly h2c: string;
}

/**
 * Throws unless the server answers as it should: keycard allows the allowed question (rule
 * update-own), denies the denied one, and decides each batch item as the ownership tuples say;
 * the bare handler answers every question with `decision: true`. Over HTTP/1.1 and h2c.
 */
export async function verifyAuthzenAnswers(addresses: AuthzenAddresses, token: string, keycard: boolean): Promise<void> {
  const client = new AuthzenClient({ baseUrl: `http://${addresses.http1}`, token, timeoutMs: 10_000 });
  const problems: string[] = [];
  const expect = (what: string, decision: Decision, wanted: boolean) => {
    if (decision.decision !== wanted) problems.push(`${what}: decision ${decision.decision} instead of ${wanted} (${JSON.stringify(decision.context ?? {})})`);
  };
  try {
    const allowed = await client.evaluate(ALLOWED_QUESTION);
    expect('the allowed question over HTTP/1.1', allowed, true);
    if (keycard && allowed.context?.rule !== 'update-own') problems.push(`the allowed question was decided by ${JSON.stringify(allowed.context?.rule)}, not update-own`);
    if (keycard) expect('the denied question over HTTP/1.1', await client.evaluate(DENIED_QUESTION), false);
    const batch = await client.evaluations(BATCH_QUESTION);
    if (batch.evaluations.length !== BATCH_SIZE) problems.push(`the batch answered ${batch.evaluations.length} items, not ${BATCH_SIZE}`);
    batch.evaluations.forEach((item, i) => expect(`batch item ${i}`, item, keycard ? batchExpectation(i) : true));
    expect('the allowed question over h2c', await h2cEvaluate(addresses.h2c, token, ALLOWED_QUESTION), true);
    if (keycard) expect('the denied question over h2c', await h2cEvaluate(addresses.h2c, token, DENIED_QUESTION), false);
  } finally {
    client.close();
  }
  if (problems.length > 0) throw new Error(`${addresses.http1}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
}

/** One POST /access/v1/evaluation over h2c (prior knowledge), on a connection of its own. */
function h2cEvaluate(address: string, token: string, question: object): Promise<Decision> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/access/v1/evaluation', 'content-type': 'application/json', authorization: `Bearer ${token}` });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => {
      session.close();
      if (status !== 200) return reject(new Error(`h2c evaluation: HTTP ${status}: ${body}`));
      resolve(JSON.parse(body) as Decision);
    });
    stream.on('error', reject);
    stream.end(JSON.stringify(question));
  });
}

/** What keycard's metrics say about its AuthZEN answers and its store reads so far. */
export interface AuthzenCounts {
  /** keycard_authzen_decisions_total, by decision. */
  readonly allow: number;
  readonly deny: number;
  /** keycard_decisions_total for the todo service, by decision. */
  readonly serviceAllow: number;
  readonly serviceDeny: number;
  /** keycard_authzen_requests_total answered 200, and with any other status. */
  readonly ok: number;
  readonly notOk: number;
  /** keycard_store_cache_hits_total / _misses_total, every op (0 for the memory store: it has no cache). */
  readonly cacheHits: number;
  readonly cacheMisses: number;
}

export async function authzenCounts(adminUrl: string): Promise<AuthzenCounts> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const sum = (name: string, labels: (labels: string) => boolean = () => true) => {
    let total = 0;
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\d+)`, 'gm'))) if (labels(match[1] ?? '')) total += Number(match[2]);
    return total;
  };
  const service = `service="${TODO_SERVICE}"`;
  return {
    allow: sum('keycard_authzen_decisions_total', (l) => l.includes('decision="allow"')),
    deny: sum('keycard_authzen_decisions_total', (l) => !l.includes('decision="allow"')),
    serviceAllow: sum('keycard_decisions_total', (l) => l.includes(service) && l.includes('decision="allow"')),
    serviceDeny: sum('keycard_decisions_total', (l) => l.includes(service) && !l.includes('decision="allow"')),
    ok: sum('keycard_authzen_requests_total', (l) => l.includes('status="200"')),
    notOk: sum('keycard_authzen_requests_total', (l) => !l.includes('status="200"')),
    cacheHits: sum('keycard_store_cache_hits_total'),
    cacheMisses: sum('keycard_store_cache_misses_total'),
  };
}

/**
 * Throws unless, between `before` and `after`, keycard answered exactly `requests` requests with
 * 200 and decided exactly `allowed` allows and `denied` denies (AuthZEN's counter and the service's).
 */
export function verifyAuthzenRound(before: AuthzenCounts, after: AuthzenCounts, sent: { requests: number; allowed: number; denied: number }, name: string): void {
  const grew = (key: keyof AuthzenCounts) => after[key] - before[key];
  const found = { ok: grew('ok'), notOk: grew('notOk'), allow: grew('allow'), deny: grew('deny'), serviceAllow: grew('serviceAllow'), serviceDeny: grew('serviceDeny') };
  const wanted = { ok: sent.requests, notOk: 0, allow: sent.allowed, deny: sent.denied, serviceAllow: sent.allowed, serviceDeny: sent.denied };
  const wrong = (Object.keys(wanted) as (keyof typeof wanted)[]).filter((key) => found[key] !== wanted[key]);
  if (wrong.length > 0) {
    throw new Error(`${name}: ${sent.requests} requests sent (${sent.allowed} allows and ${sent.denied} denies expected); keycard's counters grew by ${JSON.stringify(found)}`);
  }
}

/**
 * Commands the Redis server has executed so far, those a probe or connection housekeeping makes
 * left out (INFO, CLIENT, HELLO, SELECT, PING, COMMAND): what is left are keycard's store reads
 * and writes, and its change feed's SUBSCRIBE.
 */
export async function redisCommands(redis: RedisServer): Promise<{ total: number; byCommand: Map<string, number> }> {
  const text = String(await redis.command('INFO', 'commandstats'));
  const byCommand = new Map<string, number>();
  let total = 0;
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const command = match[1]!;
    if (/^(info|client|hello|select|ping|command)(\||$)/.test(command)) continue;
    byCommand.set(command, Number(match[2]));
    total += Number(match[2]);
  }
  return { total, byCommand };
}
