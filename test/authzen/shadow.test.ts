// The shadow policy set decides AuthZEN questions too, through a running keycard: a candidate
// without the owners' update rule disagrees on exactly the questions that rule allowed, the answer
// stays the enforced one, and the disagreement is counted for the service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthzenKeycard, TODO_POLICY, BILLING_POLICY, type AuthzenFixture } from './fixture.js';

const CANDIDATE = TODO_POLICY.replace(/ {2}- id: update-own\n(?: {4}.*\n)+?(?= {2}- id:)/, '');

let fx: AuthzenFixture;
let svcToken: string;

beforeAll(async () => {
  expect(CANDIDATE).not.toContain('id: update-own');
  fx = await startAuthzenKeycard('shadow: { dir: policies-next, watch: false }', { 'policies-next/todos.yaml': CANDIDATE, 'policies-next/billing.yaml': BILLING_POLICY });
  svcToken = await fx.token('svc-todos');
});
afterAll(async () => fx?.stop());

async function evaluate(subject: string, action: string, id: string): Promise<boolean> {
  const response = await fetch(`${fx.base}/access/v1/evaluation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${svcToken}` },
    body: JSON.stringify({ subject: { type: 'user', id: subject }, action: { name: action }, resource: { type: 'todo', id } }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { decision: boolean }).decision;
}

async function sample(series: string): Promise<number> {
  const text = await fx.keycard.metrics.registry.metrics();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('a shadow policy set and AuthZEN questions', () => {
  it('enforces the enforced set, and counts where the candidate disagrees', async () => {
    // Allowed by update-own (beth owns todo 1): the candidate would deny.
    expect(await evaluate('beth', 'can_update_todo', '1')).toBe(true);
    // Denied by both (beth does not own todo 2); allowed by both (rick reads).
    expect(await evaluate('beth', 'can_update_todo', '2')).toBe(false);
    expect(await evaluate('rick', 'can_read_todos', '1')).toBe(true);
    const disagreed = 'keycard_shadow_disagreements_total{service="todos",enforced="allow",shadow="deny",rule="_none"}';
    const agreed = 'keycard_shadow_evaluations_total{service="todos",result="agree"}';
    const deadline = Date.now() + 5_000;
    while ((await sample(disagreed)) < 1 || (await sample(agreed)) < 2) {
      if (Date.now() > deadline) throw new Error(await fx.keycard.metrics.registry.metrics());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await sample(disagreed)).toBe(1);
    expect(await sample('keycard_shadow_evaluations_total{service="todos",result="disagree"}')).toBe(1);
  });
});
