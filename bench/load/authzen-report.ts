// The AuthZEN part's markdown: one row per (server, question, protocol, load) in the Check table's
// format with evaluations per second and CPU per evaluation added, and the store reads the
// keycards made during their measured rounds.
import { authzenLoadName, protocolName, questionName, type AuthzenPartResult, type AuthzenRow, type StoreUse } from './authzen.js';
import { BATCH_ALLOWED, BATCH_SIZE, CALLER } from './authzen-scenario.js';
import { loadName } from './h2load.js';
import { comparisonCells, latencyCells, rps, rpsCell, serverCell } from './report.js';


function baselineOf(rows: readonly AuthzenRow[], row: AuthzenRow): AuthzenRow | undefined {
  return row.baseline === undefined ? undefined : rows.find((r) => r.target === row.baseline && authzenLoadName(r.load) === authzenLoadName(row.load));
}

export function authzenTable(rows: readonly AuthzenRow[]): string {
  const lines = [
    '| server | question | HTTP | conns×streams | requests/s (range) | evaluations/s | p50 ms | p90 ms | p99 ms | p99.9 ms | CPU µs/req | CPU µs/evaluation | rps ÷ bare | p50 − bare ms | CPU/req ÷ bare | other load |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const base = baselineOf(rows, row);
    lines.push(
      [
        `| ${serverCell(row)}`,
        questionName(row.load.question),
        protocolName(row.load),
        loadName(row.load),
        rpsCell(row),
        Math.round(rps(row) * row.evaluationsPerRequest).toString(),
        ...latencyCells(row),
        row.cpuUsPerRequest.toFixed(0),
        (row.cpuUsPerRequest / row.evaluationsPerRequest).toFixed(1),
        ...comparisonCells(row, base),
      ].join(' | '),
    );
  }
  return lines.join('\n');
}

export function storeTable(uses: readonly StoreUse[]): string {
  const lines = [
    '| server | evaluations | store reads per evaluation | store cache hits | store cache misses | hit ratio | Redis commands | Redis commands per 1,000 evaluations |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const use of uses) {
    const lookups = use.cacheHits + use.cacheMisses;
    const commands = use.redisCommands;
    const names = use.commandNames.size > 0 ? ` (${[...use.commandNames].sort().join(', ')})` : '';
    lines.push(
      [
        `| ${use.target}`,
        use.evaluations.toLocaleString('en'),
        lookups === 0 ? '—' : (lookups / use.evaluations).toFixed(2),
        lookups === 0 ? '— (no cache: the state is in process)' : use.cacheHits.toLocaleString('en'),
        lookups === 0 ? '—' : use.cacheMisses.toLocaleString('en'),
        lookups === 0 ? '—' : `${((use.cacheHits / lookups) * 100).toFixed(3)} %`,
        commands === undefined ? '—' : `${commands}${names}`,
        commands === undefined ? '— |' : `${((commands / use.evaluations) * 1000).toFixed(3)} |`,
      ].join(' | '),
    );
  }
  return lines.join('\n');
}

export function authzenSection(result: AuthzenPartResult, rounds: number): string {
  const { seconds } = result;
  return [
    'keycard answers AuthZEN questions on its `authzen:` listener, configured with the Check scenario\'s policy plus a todo service\'s access policy ' +
      '(`match: {actions, resources}` rules; the question asked needs a role from the store, an ownership tuple and the resource\'s `department` equal to ' +
      `the subject's from the subject directory; an explicit deny on an attribute is evaluated first), its caller \`${CALLER}\` admitted by \`authzen.callers\` ` +
      'and authenticated by an RS256 bearer JWT (token cache warm), audit lines to a file. The baseline is Node\'s own servers (node:http with keep-alive, ' +
      'node:http2 for h2c) with a handler that parses the JSON and answers a fixed `{"decision":true}` (one per item for a batch). ' +
      `h2load POSTs one evaluation (${result.singleBytes} bytes of JSON, allowed) to \`/access/v1/evaluation\`, or a batch of ${BATCH_SIZE} ` +
      `(${result.batchBytes} bytes; ${BATCH_ALLOWED} allowed, ${BATCH_SIZE - BATCH_ALLOWED} denied) to \`/access/v1/evaluations\`, over HTTP/1.1 keep-alive ` +
      '(one request in flight per connection) or h2c. The servers take turns as in the Check part ' +
      `(${rounds} round(s) of about ${(seconds / rounds).toFixed(1)} s per server and load). Every round is verified: every request answered 200, ` +
      "keycard's `keycard_authzen_decisions_total` and the service's `keycard_decisions_total` grew by exactly the allows and denies sent, and real clients " +
      '(the package\'s `AuthzenClient` over HTTP/1.1, node:http2 over h2c) checked the decisions before and after: the allowed question allowed by rule ' +
      '`update-own`, a denied question denied, each batch item as its ownership tuple says.',
    '',
    authzenTable(result.rows),
    '',
    'Store reads during the measured rounds: `keycard_store_cache_hits_total` and `_misses_total` over every read kind (the caller\'s revocation check, ' +
      'role bindings, the ownership tuple, the subject\'s directory record), and the commands Redis executed (`INFO commandstats`, connection housekeeping ' +
      'and this probe left out). A miss is a round trip; the caches keep an answer for `store.cache.ttl` (30 s by default) unless a change drops it.',
    '',
    storeTable(result.store),
  ].join('\n');
}
