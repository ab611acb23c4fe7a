// Conditions on how the caller authenticated: mfa, acr and maxAuthAge. When a rule fails only on
// these, the deny is a step-up challenge (RFC 9470) rather than a plain 403.
import { claimAt, scalarText, stringList } from './claims.js';
import type { Condition, StepUpSettings } from './types.js';

/** `mfa: true`: `amr` names a multi-factor method, or `acr` is a multi-factor level. */
export function mfaCondition(required: boolean, settings: StepUpSettings): Condition {
  const acrValues = settings.mfaAcrValues;
  return {
    kind: 'mfa',
    category: required ? 'step_up' : 'plain',
    description: required ? 'multi-factor authentication' : 'no multi-factor authentication',
    needsIdentity: true,
    reads: { claims: ['amr', 'acr'] },
    evaluate({ identity }) {
      const amr = stringList(claimAt(identity, ['amr']));
      const acr = scalarText(claimAt(identity, ['acr']));
      const hasMfa = amr.some((method) => settings.mfaAmrValues.includes(method)) || (acr !== undefined && acrValues.includes(acr));
      if (hasMfa === required) return { ok: true };
      if (!required) return { ok: false, detail: 'the caller used multi-factor authentication' };
      return {
        ok: false,
        detail: `no multi-factor authentication (amr: [${amr.join(', ')}]${acr ? `, acr: ${acr}` : ''})`,
        stepUp: acrValues.length > 0 ? { acrValues } : {},
      };
    },
  };
}

/** `acr: [urn:example:loa:2]`: the authentication context class is one of these. */
export function acrCondition(values: readonly string[]): Condition {
  return {
    kind: 'acr',
    category: 'step_up',
    description: `acr in [${values.join(', ')}]`,
    needsIdentity: true,
    reads: { claims: ['acr'] },
    evaluate({ identity }) {
      const acr = scalarText(claimAt(identity, ['acr']));
      return acr !== undefined && values.includes(acr)
        ? { ok: true }
        : { ok: false, detail: `acr ${acr ?? '(none)'} is not one of [${values.join(', ')}]`, stepUp: { acrValues: values } };
    },
  };
}

/** `maxAuthAge: 10m`: the caller authenticated (`auth_time`) at most this long ago. */
export function maxAuthAgeCondition(maxAgeMs: number): Condition {
  const maxAgeSeconds = Math.floor(maxAgeMs / 1000);
  return {
    kind: 'maxAuthAge',
    category: 'step_up',
    description: `authenticated within ${maxAgeSeconds}s`,
    needsIdentity: true,
    reads: { claims: ['auth_time'] },
    evaluate({ identity, now }) {
      const authTime = claimAt(identity, ['auth_time']);
      if (typeof authTime !== 'number') return { ok: false, detail: 'the token has no auth_time', stepUp: { maxAgeSeconds } };
      const age = Math.floor(now / 1000) - authTime;
      return age <= maxAgeSeconds
        ? { ok: true }
        : { ok: false, detail: `authenticated ${age}s ago, more than ${maxAgeSeconds}s`, stepUp: { maxAgeSeconds } };
    },
  };
}
