// `forward: { identityToken: true }`: the pipeline asks for a token only when the decision allows an
// authenticated caller of such a policy, a failed signature denies (fail closed), the answer
// carries it in the configured header and never passes a client's copy on, and a policy asking
// for it without `internalToken` in the settings does not load.
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/authn/identity.js';
import { InternalTokenIssuer } from '../../src/authn/internal-token.js';
import { formatConfigIssue } from '../../src/errors.js';
import type { IdentityTokenIssuer } from '../../src/pipeline/pipeline.js';
import type { Decision } from '../../src/pipeline/types.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { planResponse } from '../../src/protocol/decision-response.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { configError } from '../helpers/config-error.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml, user } from '../helpers/policy.js';
import { Workspace } from '../helpers/workspace.js';

const RULES = `
rules:
  - { id: health, effect: allow, match: { paths: [/healthz] }, anonymous: true }
  - { id: read, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }] }
  - { id: no-legacy, effect: deny, match: { paths: ["/v1/**"] }, dryRun: true }
`;
const WITH_TOKEN = `service: orders\nforward: { identityToken: true }\n${RULES}`;
const WITH_TOKEN_OPTIONS = { credentials: { introspectionEndpoints: new Set<string>(), apiKeys: false, internalToken: true } };
const STORE = [{ subject: 'alice', role: 'customer' }];

let workspace: Workspace;
let issuer: InternalTokenIssuer;
beforeAll(async () => {
  workspace = new Workspace();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKeyFile = workspace.write('signing.json', { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' });
  issuer = new InternalTokenIssuer({ signingKeyFile, issuer: 'keycard', lifetime: 60_000, header: 'x-keycard-id' });
  await issuer.load();
});
afterAll(() => workspace.remove());

async function decide(policyText: string, identity: Identity, path: string, tokens: IdentityTokenIssuer | null = issuer, mode?: string): Promise<Decision> {
  const policy = compileYaml(mode ? `${policyText}\nmode: ${mode}\n` : policyText, ['test-idp'], 'policy.yaml', WITH_TOKEN_OPTIONS);
  const pipeline = pipelineWith({
    policies: () => new PolicySet([policy], 'v1'),
    authenticator: fixedIdentity(identity),
    store: new MemoryStore(STORE),
    ...(tokens && { identityTokens: tokens }),
  });
  return pipeline.decide(authzInput('orders', path));
}

const failing: IdentityTokenIssuer = { header: 'x-keycard-id', issue: () => Promise.reject(new Error('HSM unreachable')) };

describe('the identity token in the pipeline', () => {
  it('is made for an allowed, authenticated caller, with the caller’s live roles', async () => {
    const decision = await decide(WITH_TOKEN, user('alice'), '/orders/1');
    expect(decision.allowed).toBe(true);
    expect(decision.identityToken?.header).toBe('x-keycard-id');
    const { payload } = await jwtVerify(decision.identityToken!.token, createLocalJWKSet(issuer.jwks!), { audience: 'orders', issuer: 'keycard' });
    expect(payload).toMatchObject({ sub: 'alice', roles: ['customer'], cred: 'jwt', idp: 'test-idp' });
  });

  it('is not made for a deny, an anonymous caller, or a policy that does not ask for it', async () => {
    const denied = await decide(WITH_TOKEN, user('bob'), '/orders/1');
    expect(denied.reason).toBe('no_matching_rule');
    expect(denied.identityToken).toBeUndefined();
    const anonymous = await decide(WITH_TOKEN, { authenticated: false }, '/healthz');
    expect(anonymous.allowed).toBe(true);
    expect(anonymous.identityToken).toBeUndefined();
    const notAsked = await decide(`service: orders\n${RULES}`, user('alice'), '/orders/1');
    expect(notAsked.allowed).toBe(true);
    expect(notAsked.identityToken).toBeUndefined();
  });

  it('denies with internal_error when no token can be signed (fail closed)', async () => {
    const decision = await decide(WITH_TOKEN, user('alice'), '/orders/1', failing);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toBe('internal_error');
    expect(decision.status).toBe(403);
    expect(decision.detail).toContain('HSM unreachable');
    expect(decision.identityToken).toBeUndefined();
  });

  it('passes a catalogued deny of the issuer on (a credential past its exp: token_expired)', async () => {
    const expired = { ...user('alice'), expiresAt: Date.now() / 1000 - 5 };
    const decision = await decide(WITH_TOKEN, expired, '/orders/1');
    expect(decision.reason).toBe('token_expired');
    expect(decision.status).toBe(401);
  });

  it('is made for a request allowed under dry-run, which still allows when signing fails', async () => {
    // bob holds no role: a would-be deny that dry-run allows. He is still who he says he is.
    const dryRun = await decide(WITH_TOKEN, user('bob'), '/orders/1', issuer, 'dry-run');
    expect(dryRun.dryRun?.reason).toBe('no_matching_rule');
    expect(dryRun.identityToken).toBeDefined();
    const failed = await decide(WITH_TOKEN, user('bob'), '/orders/1', failing, 'dry-run');
    expect(failed.allowed).toBe(true);
    expect(failed.dryRun?.reason).toBe('internal_error');
    expect(failed.identityToken).toBeUndefined();
  });

  it('is left out by offline evaluation, which has no issuer', async () => {
    const decision = await decide(WITH_TOKEN, user('alice'), '/orders/1', null);
    expect(decision.allowed).toBe(true);
    expect(decision.identityToken).toBeUndefined();
  });
});

describe('the identity token on the wire', () => {
  it('is set in the configured header, replacing a client’s copy', async () => {
    const decision = await decide(WITH_TOKEN, user('alice'), '/orders/1');
    const plan = planResponse(decision, new Map([['x-keycard-id', 'forged']]));
    expect(plan.headers).toContainEqual(['x-keycard-id', decision.identityToken!.token]);
    expect(plan.headersToRemove).not.toContain('x-keycard-id');
  });

  it('is never passed on from the client when keycard sets none', async () => {
    const anonymous = await decide(WITH_TOKEN, { authenticated: false }, '/healthz');
    const plan = planResponse(anonymous, new Map([['x-keycard-id', 'forged']]));
    expect(plan.headers.map(([name]) => name)).not.toContain('x-keycard-id');
    expect(plan.headersToRemove).toContain('x-keycard-id');
  });

  it('is never in a deny', async () => {
    const denied = await decide(WITH_TOKEN, user('bob'), '/orders/1');
    const plan = planResponse(denied, new Map());
    expect(JSON.stringify(plan)).not.toMatch(/x-keycard-id|eyJ/);
  });
});

describe('a policy asking for the token', () => {
  it('does not load without internalToken in the settings, naming file and line', () => {
    const error = configError(() => compileYaml(WITH_TOKEN, ['test-idp'], 'orders.yaml'));
    expect(error.issues.map(formatConfigIssue)).toEqual([
      'orders.yaml:2:27 [credential_not_configured] forward.identityToken: the identity token needs `internalToken:` (the signing key) in the settings file',
    ]);
  });

  it('loads with it, and defaults to no token', () => {
    expect(compileYaml(WITH_TOKEN, ['test-idp'], 'orders.yaml', WITH_TOKEN_OPTIONS).forward.identityToken).toBe(true);
    expect(compileYaml(`service: orders\n${RULES}`).forward.identityToken).toBe(false);
  });
});
