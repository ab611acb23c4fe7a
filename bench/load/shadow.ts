// The shadow-policy target of the load benchmark (issue 10): keycard with a candidate set beside
// the enforced one. The candidate is the same 50-rule policy with one rule the benchmark's request
// never reaches changed (r25 turned into a deny), so every request is decided twice and the two
// agree: the common case of a release, and what the shadow costs without audit lines. Each round
// checks that the shadow decided every request (none dropped, none disagreeing).
import { loadName } from './h2load.js';
import { rps, rpsRatio, type Row } from './report.js';
import { MEMORY_STORE, policyYaml, settingsYaml, type Scenario } from './scenario.js';
import { startKeycard, type ServerUnderTest } from './servers.js';

const SHADOW_DIR = 'policies-next';

export function candidatePolicyYaml(): string {
  const changed = policyYaml().replace('{ id: r25, effect: allow,', '{ id: r25, effect: deny,');
  if (changed === policyYaml()) throw new Error('the candidate policy is the enforced one: rule r25 not found');
  return changed;
}

export function startWithShadow(cpus: readonly number[], scenario: Scenario): Promise<ServerUnderTest> {
  scenario.workspace.write(`${SHADOW_DIR}/catalog.yaml`, candidatePolicyYaml());
  const config = scenario.workspace.write('keycard-shadow.yaml', `${settingsYaml(MEMORY_STORE)}shadow: { dir: ${SHADOW_DIR}, watch: false }\n`);
  return startKeycard(cpus, config, 1);
}

export interface ShadowCounts {
  readonly agree: number;
  /** Evaluations with any other result: disagree, dropped, unevaluated, error. */
  readonly other: number;
  readonly inFlight: number;
}

export async function shadowCounts(adminUrl: string): Promise<ShadowCounts> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let agree = 0;
  let other = 0;
  for (const match of text.matchAll(/^keycard_shadow_evaluations_total\{([^}]*)\} (\d+)/gm)) {
    if (match[1]!.includes('result="agree"')) agree += Number(match[2]);
    else other += Number(match[2]);
  }
  const inFlight = Number(/^keycard_shadow_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
  return { agree, other, inFlight };
}

/** The counts once no evaluation is under way (they trail the answers by a moment). */
export async function settledShadowCounts(adminUrl: string): Promise<ShadowCounts> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const counts = await shadowCounts(adminUrl);
    if (counts.inFlight === 0 || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Throws unless the shadow agreed on exactly `requests` decisions since `before`. */
export async function verifyShadowRound(adminUrl: string, before: ShadowCounts, requests: number, name: string): Promise<void> {
  const after = await settledShadowCounts(adminUrl);
  const agreed = after.agree - before.agree;
  const other = after.other - before.other;
  if (agreed !== requests || other !== 0) throw new Error(`${name}: ${requests} requests sent, the shadow agreed on ${agreed}, ${other} evaluated otherwise (dropped, disagreeing or failed)`);
}

/** What the shadow adds to keycard without one, per load of the run. */
export function shadowSection(rows: readonly Row[], names: { readonly keycard: string; readonly shadow: string }): string {
  const lines = [
    `"${names.shadow}" against "${names.keycard}" at the same loads, in the same rounds. The shadow evaluation runs after the answer is sent, ` +
      'so it adds no waiting to a Check; what it adds is CPU on the same event loop, which shows as throughput and, under load, as latency. ' +
      'Every round also checked that the shadow decided every request and agreed (`keycard_shadow_evaluations_total{result="agree"}` grew by exactly the number sent).',
    '',
    '| conns×streams | rps ÷ without shadow | p50 ms (without → with) | added p50 ms | added p99 ms | CPU µs/req (without → with) | added CPU µs/req |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
  for (const row of rows.filter((r) => r.target === names.shadow)) {
    const base = rows.find((r) => r.target === names.keycard && loadName(r.load) === loadName(row.load));
    if (!base) continue;
    lines.push(
      `| ${loadName(row.load)} | ${rpsRatio(row, base).toFixed(2)} (${Math.round(rps(row))} vs ${Math.round(rps(base))}) | ${base.p50.toFixed(3)} → ${row.p50.toFixed(3)} | ${signed(row.p50 - base.p50)} | ` +
        `${signed(row.p99 - base.p99)} | ${base.cpuUsPerRequest.toFixed(0)} → ${row.cpuUsPerRequest.toFixed(0)} | ${signed(row.cpuUsPerRequest - base.cpuUsPerRequest).replace(/\.\d+$/, '')} |`,
    );
  }
  return lines.join('\n');
}
