// Comparing an enforced decision with the shadow's, and taking the enforced caller as the
// candidate's authentication would.
import { describe, expect, it } from 'vitest';
import type { AuthenticationConfig } from '../../src/authn/credentials/types.js';
import { ANONYMOUS } from '../../src/authn/identity.js';
import { DenyError, type DenyReason } from '../../src/errors.js';
import type { Decision } from '../../src/pipeline/types.js';
import { compareDecisions } from '../../src/shadow/compare.js';
import { acceptedBy } from '../../src/shadow/enforced-caller.js';
import { user } from '../helpers/policy.js';

function decision(allowed: boolean, reason: DenyReason | 'allowed', ruleId?: string, dryRun?: Decision['dryRun']): Decision {
  return {
    id: 'd1',
    allowed,
    reason,
    status: allowed ? 200 : 403,
    ...(dryRun && { dryRun }),
    ruleId,
    identity: ANONYMOUS,
    roles: [],
    forwardIdentity: false,
    trace: [],
    durationMs: 0,
    phaseMs: {},
  };
}

const allow = (rule: string) => decision(true, 'allowed', rule);
const deny = (reason: DenyReason, rule?: string) => decision(false, reason, rule);

describe('compareDecisions', () => {
  it('agrees when both allow by the same rule, or both deny without a rule', () => {
    expect(compareDecisions(allow('read'), allow('read')).agree).toBe(true);
    expect(compareDecisions(deny('no_matching_rule'), deny('no_matching_rule')).agree).toBe(true);
  });

  it('disagrees on the verdict, with each side as the metric and audit line show it', () => {
    const comparison = compareDecisions(allow('read'), deny('no_matching_rule'));
    expect(comparison).toEqual({
      agree: false,
      enforced: { verdict: 'allow', label: 'allow', reason: 'allowed', rule: 'read' },
      shadow: { verdict: 'deny', label: 'deny', reason: 'no_matching_rule', rule: undefined },
    });
    expect(compareDecisions(deny('explicit_deny', 'legacy-off'), allow('read')).agree).toBe(false);
  });

  it('disagrees when another rule decides, even with the same verdict', () => {
    const comparison = compareDecisions(allow('read'), allow('read-v2'));
    expect(comparison.agree).toBe(false);
    expect(comparison.shadow.rule).toBe('read-v2');
    expect(compareDecisions(deny('explicit_deny', 'legacy-off'), deny('no_matching_rule')).agree).toBe(false);
  });

  it('does not count a different deny reason alone as a disagreement', () => {
    expect(compareDecisions(deny('authentication_required'), deny('no_matching_rule')).agree).toBe(true);
    expect(compareDecisions(deny('no_matching_rule'), deny('unknown_service')).agree).toBe(true);
  });

  it('compares what was done: a dry-run deny was an allow', () => {
    const dryRun = decision(true, 'allowed', undefined, { reason: 'no_matching_rule' });
    expect(compareDecisions(dryRun, dryRun).agree).toBe(true);
    const enforcing = compareDecisions(dryRun, deny('no_matching_rule'));
    expect(enforcing.agree).toBe(false);
    expect(enforcing.enforced).toMatchObject({ verdict: 'allow', label: 'dry_run_deny' });
    expect(enforcing.shadow).toMatchObject({ verdict: 'deny', label: 'deny' });
  });
});

describe('acceptedBy: the enforced caller under the candidate authentication', () => {
  const jwt = (issuers?: string[]): AuthenticationConfig => ({ credentials: [{ kind: 'jwt', header: 'authorization', issuers, types: undefined }], onMultiple: 'reject' });

  it('keeps the caller when the candidate accepts its credential and issuer', () => {
    expect(acceptedBy(user('alice'), jwt())).toEqual(user('alice'));
    expect(acceptedBy(user('alice'), jwt(['test-idp']))).toEqual(user('alice'));
    expect(acceptedBy(ANONYMOUS, jwt(['test-idp']))).toBe(ANONYMOUS);
  });

  it('rejects an issuer the candidate no longer accepts', () => {
    expect(() => acceptedBy(user('alice'), jwt(['other-idp']))).toThrow(DenyError);
    try {
      acceptedBy(user('alice'), jwt(['other-idp']));
    } catch (error) {
      expect((error as DenyError).reason).toBe('untrusted_issuer');
    }
  });

  it('sees no caller when the candidate does not look for that kind of credential', () => {
    const apiKeysOnly: AuthenticationConfig = { credentials: [{ kind: 'api_key', header: 'x-api-key', query: undefined }], onMultiple: 'reject' };
    expect(acceptedBy(user('alice'), apiKeysOnly)).toBe(ANONYMOUS);
  });
});
