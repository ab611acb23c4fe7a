// The symbolic verdicts must agree with enforcement: for every operation, caller class and
// combination of the requirements a verdict names, decide() gives the decision and rule that
// evaluatePolicy gives for a real request whose caller meets exactly those requirements.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../src/authn/identity.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { callerClasses, callerLabel, type CallerClass } from '../../../src/registry/analysis/caller-class.js';
import { operationCoverage } from '../../../src/registry/analysis/operation-coverage.js';
import { decide, requirementsOf } from '../../../src/registry/analysis/verdict.js';
import { callerContext, compileYaml, user } from '../../helpers/policy.js';
import { operation } from './api.js';

const POLICY = compileYaml(`
service: shop
rules:
  - id: public-catalog
    effect: allow
    match: { methods: [GET], paths: ["/items/**"] }
    anonymous: true
  - id: partner-feed
    effect: allow
    match: { methods: [POST], paths: ["/items/{sku}"] }
    anonymous: true
    when: [{ header: { name: x-partner, equals: acme } }]
  - id: editors
    effect: allow
    match: { methods: [PUT, POST], paths: ["/items/{sku}"] }
    when: [{ role: editor }, { scope: items:write }]
  - id: admins
    effect: allow
    match: { paths: ["/**"] }
    when: [{ role: admin }, { mfa: true }]
  - id: frozen
    effect: deny
    match: { methods: [PUT, POST, DELETE], paths: ["/items/**"] }
    when: [{ header: { name: x-freeze, present: true } }]
  - id: no-guests
    effect: deny
    match: { paths: ["/admin/**"] }
    when: [{ role: guest }]
  - id: maybe-block
    effect: deny
    match: { methods: [DELETE] }
    dryRun: true
`);

const OPERATIONS = ['GET /items/{sku}', 'POST /items/{sku}', 'PUT /items/{sku}', 'DELETE /items/{sku}', 'GET /admin/stats', 'PATCH /orders/{id}'].map(operation);
const CALLERS = callerClasses(['admin', 'editor', 'guest']);

/** A real caller meeting exactly the `met` requirements, as the policy's conditions read them. */
function realCaller(caller: CallerClass, met: ReadonlySet<string>) {
  const claims: Record<string, unknown> = {};
  if (met.has('scope items:write')) claims.scope = 'items:write';
  if (met.has('multi-factor authentication')) claims.amr = ['pwd', 'otp'];
  const headers = new Map<string, string>();
  if (met.has('header x-partner equals "acme"')) headers.set('x-partner', 'acme');
  if (met.has('header x-freeze is present')) headers.set('x-freeze', '1');
  return callerContext({
    identity: caller.kind === 'anonymous' ? ANONYMOUS : user('someone', claims),
    roles: new Set(caller.kind === 'role' ? [caller.role] : []),
    request: { method: 'GET', path: '/', headers, clientAddress: '127.0.0.1' },
  });
}

describe('symbolic verdicts agree with evaluatePolicy', () => {
  it('for every operation, caller class and combination of requirements', async () => {
    let compared = 0;
    for (const op of OPERATIONS) {
      const coverage = await operationCoverage(POLICY, op, CALLERS);
      for (const verdict of coverage.verdicts) {
        const requirements = requirementsOf(verdict);
        for (let mask = 0; mask < 1 << requirements.length; mask++) {
          const met = new Set(requirements.filter((_, bit) => (mask >> bit) & 1));
          const symbolic = decide(verdict, (requirement) => met.has(requirement));
          const segments = op.path.replace('{sku}', 'sku-1').replace('{id}', '7').split('/').filter(Boolean);
          const real = await evaluatePolicy(POLICY, { method: op.method, segments }, realCaller(verdict.caller, met));
          const label = `${op.method} ${op.path} ${callerLabel(verdict.caller)} with [${[...met].join(', ')}]`;
          expect({ allowed: symbolic.allowed, rule: symbolic.rule?.id }, label).toEqual({
            allowed: real.allowed,
            rule: real.reason === 'explicit_deny' || real.allowed ? real.rule?.id : undefined,
          });
          compared++;
        }
      }
    }
    // Every requirement the policy uses shows up somewhere, so the loop above really branched.
    expect(compared).toBeGreaterThan(OPERATIONS.length * CALLERS.length);
  });
});
