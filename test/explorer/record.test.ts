// The explorer record of a decision, made by the real pipeline: what it keeps (who, what, which
// rule, why) and what it never keeps (a credential: header values, the query string, the internal
// identity token); masked subjects; bounded sizes; and the explanation rebuilt from the record
// being the one `keycard check` prints for the decision itself.
import { describe, expect, it } from 'vitest';
import { explainDecision } from '../../src/cli/explain.js';
import { explainRecord } from '../../src/explorer/explain-record.js';
import { SubjectMasker } from '../../src/explorer/mask.js';
import { toExplorerRecord } from '../../src/explorer/record.js';
import type { AuthzInput, Decision } from '../../src/pipeline/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml, user } from '../helpers/policy.js';

const POLICY = `
service: vault
rules:
  - id: tenant-header
    effect: allow
    match: { paths: ["/secrets/**"] }
    when: [{ header: { name: x-api-key, equals: the-right-key-000 } }]
  - id: cookie-check
    effect: allow
    match: { paths: ["/secrets/**"] }
    when: [{ header: { name: cookie, equals: "sid=never-this" } }]
  - id: admins
    effect: allow
    match: { paths: ["/secrets/**"] }
    when: [{ role: admin }]
`;

async function decide(input: AuthzInput, subject = 'alice@example.com', claims: Record<string, unknown> = { team: 'blue' }): Promise<Decision> {
  const store = new MemoryStore();
  const pipeline = pipelineWith({ policies: () => new PolicySet([compileYaml(POLICY)], 'v7'), authenticator: fixedIdentity(user(subject, claims)), store });
  return pipeline.decide(input);
}

const SECRET_KEY = 'presented-api-key-5f2c9a';
const SESSION = 'session-cookie-value-8d1e';
const BEARER = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

function request(): AuthzInput {
  return authzInput('vault', '/secrets/a?token=query-secret-77#frag', {
    headers: new Map([
      ['x-api-key', SECRET_KEY],
      ['cookie', `theme=dark; sid=${SESSION}`],
      ['authorization', `Bearer ${BEARER}`],
    ]),
    requestId: 'req-1',
    source: { address: '10.1.2.3', principal: 'spiffe://cluster.local/ns/shop/sa/web' },
  });
}

describe('the explorer record', () => {
  it('keeps who, what, which rule and why, and none of the credentials', async () => {
    const decision = await decide(request());
    const record = toExplorerRecord(decision, request(), { now: () => Date.UTC(2026, 10, 23, 12) });
    expect(record).toMatchObject({
      id: decision.id,
      time: '2026-11-23T12:00:00.000Z',
      service: 'vault',
      requestedService: 'vault',
      method: 'GET',
      host: 'vault',
      requestPath: '/secrets/a',
      path: '/secrets/a',
      subject: 'alice@example.com',
      issuer: 'test-idp',
      credential: 'jwt',
      claims: { team: 'blue' },
      roles: [],
      decision: 'deny',
      status: 403,
      reason: 'no_matching_rule',
      peer: 'spiffe://cluster.local/ns/shop/sa/web',
      requestId: 'req-1',
      policyVersion: 'v7',
    });
    expect(record.trace.map((rule) => [rule.id, rule.failed])).toEqual([
      ['tenant-header', 'header x-api-key ("[redacted]") does not satisfy: equals "the-right-key-000"'],
      ['cookie-check', 'header cookie ("[redacted]") does not satisfy: equals "sid=never-this"'],
      ['admins', 'alice@example.com lacks role admin'],
    ]);
    const text = JSON.stringify(record);
    for (const secret of [SECRET_KEY, SESSION, BEARER, 'query-secret-77', 'token=', 'frag']) expect(text).not.toContain(secret);
  });

  it('never keeps the internal identity token of an allowed decision', async () => {
    const decision: Decision = { ...(await decide(request())), allowed: true, reason: 'allowed', status: 200, identityToken: { header: 'x-keycard-token', token: 'internal-token-abc' } };
    expect(JSON.stringify(toExplorerRecord(decision, request()))).not.toContain('internal-token-abc');
  });

  it('masks the subject everywhere, and leaves the claims out, when asked', async () => {
    const masker = new SubjectMasker(Buffer.alloc(32, 7));
    const record = toExplorerRecord(await decide(request()), request(), { masker });
    const mask = masker.mask('alice@example.com');
    expect(mask).toMatch(/^masked:[0-9a-f]{12}$/);
    expect(record.subject).toBe(mask);
    expect(record.claims).toBeUndefined();
    expect(record.trace[2]!.failed).toBe(`${mask} lacks role admin`);
    expect(JSON.stringify(record)).not.toContain('alice');
    // The same key gives the same mask (every worker of a cluster), another key another one.
    expect(new SubjectMasker(Buffer.alloc(32, 7)).mask('alice@example.com')).toBe(mask);
    expect(new SubjectMasker(Buffer.alloc(32, 8)).mask('alice@example.com')).not.toBe(mask);
    expect(SubjectMasker.forThisProcess({ KEYCARD_EXPLORER_MASK_KEY: '07'.repeat(32) }).mask('alice@example.com')).toBe(mask);
  });

  it('bounds what it keeps of a huge path and of huge claims', async () => {
    const long = authzInput('vault', `/secrets/${'a'.repeat(5000)}`);
    const record = toExplorerRecord(await decide(long, 'bob', { blob: 'x'.repeat(5000) }), long);
    expect(record.requestPath.length).toBeLessThan(2100);
    expect(record.requestPath).toMatch(/… \(\d+ more characters\)$/);
    expect(record.claims).toEqual({ '(claims)': expect.stringMatching(/^\d+ characters of claims, too many to keep$/) });
    expect(JSON.stringify(record).length).toBeLessThan(6000);
  });

  it('explains itself in the words keycard check uses for the decision', async () => {
    const input = authzInput('vault', '/secrets//b/../a', { source: { address: '10.1.2.3' } });
    const decision = await decide(input, 'carol', {});
    const fromDecision = explainDecision(decision, { method: 'GET', path: '/secrets//b/../a', host: 'vault', service: 'vault' }, { rolesFrom: 'store' });
    expect(explainRecord(toExplorerRecord(decision, input))).toEqual(fromDecision);
    expect(fromDecision[0]).toBe('request   GET /secrets//b/../a (normalized: /secrets/a) host vault from 10.1.2.3');
    expect(fromDecision).toContain('  admins         allow  not applied: carol lacks role admin');
  });
});
