// How the caller authenticated: `mfa` (amr values, or acr values configured in stepUp), `acr`,
// and `maxAuthAge` (auth_time). A rule failing only on these is a step-up, not a plain deny.
import { describe, expect, it } from 'vitest';
import type { StepUpSettings } from '../../../src/policy/conditions/types.js';
import { applyRule } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, compileYaml, policyWhen, user } from '../../helpers/policy.js';

const NOW = Date.parse('2026-03-27T12:00:00Z');
const NOW_S = NOW / 1000;

async function apply(when: string, claims: Record<string, unknown>, stepUp?: StepUpSettings) {
  return applyWhen(when, { identity: user('u', claims), now: NOW }, stepUp ? { stepUp } : {});
}

describe('mfa condition', () => {
  it('holds when amr names a multi-factor method (RFC 8176)', async () => {
    for (const amr of [['pwd', 'otp'], ['hwk'], ['mfa'], ['face', 'pwd'], 'pwd mfa']) {
      expect(await apply('{ mfa: true }', { amr }), JSON.stringify(amr)).toEqual({ outcome: 'applied' });
    }
  });

  it('asks for a step-up when amr has no multi-factor method, without acr_values by default', async () => {
    expect(await apply('{ mfa: true }', { amr: ['pwd'] })).toEqual({
      outcome: 'step_up',
      failed: 'no multi-factor authentication (amr: [pwd])',
      challenge: {},
    });
    expect(await apply('{ mfa: true }', {})).toEqual({ outcome: 'step_up', failed: 'no multi-factor authentication (amr: [])', challenge: {} });
  });

  it('uses the configured amr values instead of the defaults', async () => {
    const stepUp = { mfaAmrValues: ['hwk'], mfaAcrValues: [] };
    expect(await apply('{ mfa: true }', { amr: ['hwk'] }, stepUp)).toEqual({ outcome: 'applied' });
    expect(await apply('{ mfa: true }', { amr: ['otp'] }, stepUp)).toMatchObject({ outcome: 'step_up' });
  });

  it('counts a configured multi-factor acr, and asks for those acr values in the challenge', async () => {
    const stepUp = { mfaAmrValues: ['otp'], mfaAcrValues: ['urn:example:loa:mfa', 'urn:example:loa:3'] };
    expect(await apply('{ mfa: true }', { amr: ['pwd'], acr: 'urn:example:loa:3' }, stepUp)).toEqual({ outcome: 'applied' });
    expect(await apply('{ mfa: true }', { amr: ['pwd'], acr: 'urn:example:loa:1' }, stepUp)).toEqual({
      outcome: 'step_up',
      failed: 'no multi-factor authentication (amr: [pwd], acr: urn:example:loa:1)',
      challenge: { acrValues: ['urn:example:loa:mfa', 'urn:example:loa:3'] },
    });
  });

  it('does not count an acr value that is not configured as multi-factor', async () => {
    expect(await apply('{ mfa: true }', { acr: 'mfa' })).toMatchObject({ outcome: 'step_up' });
  });

  it('mfa: false is a plain condition that holds only without multi-factor authentication', async () => {
    expect(await apply('{ mfa: false }', { amr: ['pwd'] })).toEqual({ outcome: 'applied' });
    expect(await apply('{ mfa: false }', {})).toEqual({ outcome: 'applied' });
    expect(await apply('{ mfa: false }', { amr: ['otp'] })).toEqual({ outcome: 'condition_failed', failed: 'the caller used multi-factor authentication' });
    expect(policyWhen('{ mfa: false }').rules[0]!.conditions[0]!.category).toBe('plain');
  });
});

describe('acr condition', () => {
  it('holds when acr is one of the values', async () => {
    expect(await apply('{ acr: [urn:loa:2, urn:loa:3] }', { acr: 'urn:loa:3' })).toEqual({ outcome: 'applied' });
    expect(await apply('{ acr: urn:loa:2 }', { acr: 'urn:loa:2' })).toEqual({ outcome: 'applied' });
  });

  it('asks for the listed acr values otherwise', async () => {
    expect(await apply('{ acr: [urn:loa:2, urn:loa:3] }', { acr: 'urn:loa:1' })).toEqual({
      outcome: 'step_up',
      failed: 'acr urn:loa:1 is not one of [urn:loa:2, urn:loa:3]',
      challenge: { acrValues: ['urn:loa:2', 'urn:loa:3'] },
    });
    expect(await apply('{ acr: urn:loa:2 }', {})).toEqual({
      outcome: 'step_up',
      failed: 'acr (none) is not one of [urn:loa:2]',
      challenge: { acrValues: ['urn:loa:2'] },
    });
  });

  it('does not treat acr as an ordered level: only listed values count', async () => {
    expect(await apply('{ acr: "2" }', { acr: '3' })).toMatchObject({ outcome: 'step_up' });
  });
});

describe('maxAuthAge condition', () => {
  it('holds when auth_time is recent enough, including exactly at the limit', async () => {
    expect(await apply('{ maxAuthAge: 10m }', { auth_time: NOW_S - 10 })).toEqual({ outcome: 'applied' });
    expect(await apply('{ maxAuthAge: 10m }', { auth_time: NOW_S - 600 })).toEqual({ outcome: 'applied' });
  });

  it('asks for a fresh authentication with max_age when auth_time is too old', async () => {
    expect(await apply('{ maxAuthAge: 10m }', { auth_time: NOW_S - 601 })).toEqual({
      outcome: 'step_up',
      failed: 'authenticated 601s ago, more than 600s',
      challenge: { maxAgeSeconds: 600 },
    });
  });

  it('asks for a fresh authentication when auth_time is missing or not a number', async () => {
    for (const claims of [{}, { auth_time: String(NOW_S) }, { auth_time: null }]) {
      expect(await apply('{ maxAuthAge: 10m }', claims), JSON.stringify(claims)).toEqual({
        outcome: 'step_up',
        failed: 'the token has no auth_time',
        challenge: { maxAgeSeconds: 600 },
      });
    }
  });

  it('reads a bare number as seconds', async () => {
    expect(await apply('{ maxAuthAge: 300 }', { auth_time: NOW_S - 301 })).toMatchObject({ challenge: { maxAgeSeconds: 300 } });
    expect(await apply('{ maxAuthAge: 300 }', { auth_time: NOW_S - 300 })).toEqual({ outcome: 'applied' });
  });

  it('uses the decision clock, not the wall clock', async () => {
    const rule = policyWhen('{ maxAuthAge: 1h }').rules[0]!;
    const authTime = NOW_S - 1800;
    const at = async (now: number) => (await applyRule(rule, { ...callerContext({ identity: user('u', { auth_time: authTime }), now }), params: {} })).trace.outcome;
    expect(await at(NOW)).toBe('applied');
    expect(await at(NOW + 3600_000)).toBe('step_up');
  });

  it('rejects a malformed duration at load', () => {
    expect(() => policyWhen('{ maxAuthAge: "ten minutes" }')).toThrow(/rules\[0\]\.when\[0\]\.maxAuthAge: "ten minutes" is not a duration/);
  });
});

describe('authentication-strength conditions record what they read', () => {
  it('records amr, acr and auth_time for replay', () => {
    expect(policyWhen('{ mfa: true }').recorded.claims).toEqual(['acr', 'amr']);
    expect(policyWhen('{ acr: x }').recorded.claims).toEqual(['acr']);
    expect(policyWhen('{ maxAuthAge: 1m }').recorded.claims).toEqual(['auth_time']);
  });
});

describe('authentication-strength conditions need a caller', () => {
  it.each(['{ mfa: true }', '{ mfa: false }', '{ acr: x }', '{ maxAuthAge: 1m }'])('%s cannot be on an anonymous rule', (when) => {
    expect(() => compileYaml(`service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, when: [${when}] }\n`)).toThrow(/\[rule_never_matches\] rules\[0\]\.anonymous/);
  });
});
