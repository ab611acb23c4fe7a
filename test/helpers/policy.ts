// Compiles a policy from YAML text the way the loader does, for unit tests, and applies the
// conditions of a one-rule policy to a caller.
import { parseYaml, validate } from '../../src/config/yaml-file.js';
import { ANONYMOUS, type AuthenticatedIdentity } from '../../src/authn/identity.js';
import { formatConfigIssue } from '../../src/errors.js';
import type { RequestContext } from '../../src/policy/conditions/types.js';
import { compilePolicy, type CompileOptions } from '../../src/policy/compile.js';
import { applyRule, type CallerContext } from '../../src/policy/evaluate.js';
import { policySchema } from '../../src/policy/schema.js';
import type { CompiledPolicy, Effect } from '../../src/policy/types.js';
import { configError } from './config-error.js';

export function compileYaml(text: string, issuers: readonly string[] = ['test-idp'], file = 'policy.yaml', options: Partial<CompileOptions> = {}): CompiledPolicy {
  const { source, value } = parseYaml(file, text);
  return compilePolicy(validate(source, policySchema, value), source, { issuers: new Set(issuers), ...options });
}

/** A caller context for evaluating conditions directly. */
export function callerContext(overrides: Partial<CallerContext> = {}): CallerContext {
  return {
    identity: ANONYMOUS,
    roles: new Set(),
    request: { method: 'GET', path: '/', headers: new Map(), clientAddress: '127.0.0.1' },
    now: Date.UTC(2026, 10, 23, 12, 0, 0),
    relations: { check: async () => ({ ok: false, detail: 'no relations in this test' }) },
    ...overrides,
  };
}

export function user(subject: string, claims: Record<string, unknown> = {}): AuthenticatedIdentity {
  return { authenticated: true, subject, issuer: 'test-idp', credential: 'jwt', claims: { sub: subject, ...claims }, expiresAt: 2e9 };
}

/** A policy (service `s`, file policy.yaml) whose one rule `r` has `effect` and the conditions `when`, a YAML flow list without its brackets. */
export function policyWhen(when: string, effect: Effect = 'allow', options: Partial<CompileOptions> = {}): CompiledPolicy {
  return compileYaml(`service: s\nrules:\n  - { id: r, effect: ${effect}, when: [${when}] }\n`, ['test-idp'], 'policy.yaml', options);
}

/** The located errors of a policy that must fail to load, one formatted issue each. */
export function loadErrors(text: string): string[] {
  return configError(() => compileYaml(text), 'the policy loaded without error').issues.map(formatConfigIssue);
}

/** The located errors of policyWhen(when) (see loadErrors). */
export function whenErrors(when: string): string[] {
  return configError(() => policyWhen(when), 'the policy loaded without error').issues.map(formatConfigIssue);
}

export type ConditionTrace = Awaited<ReturnType<typeof applyRule>>['trace'];

/** How the allow rule of policyWhen(when, 'allow', options) applies to a caller: `u` with no claims unless overrides say otherwise. */
export async function applyWhen(when: string, overrides: Partial<CallerContext> = {}, options: Partial<CompileOptions> = {}): Promise<ConditionTrace> {
  return (await applyRule(policyWhen(when, 'allow', options).rules[0]!, { ...callerContext({ identity: user('u'), ...overrides }), params: {} })).trace;
}

/** Whether the conditions `when` hold for the caller (see applyWhen). */
export async function holdsWhen(when: string, overrides: Partial<CallerContext> = {}): Promise<boolean> {
  return (await applyWhen(when, overrides)).outcome === 'applied';
}

/** A GET / request with these headers (lower-case names) from `clientAddress`, as conditions see it. */
export function requestWith(headers: Record<string, string>, clientAddress: string | undefined): RequestContext {
  return { method: 'GET', path: '/', headers: new Map(Object.entries(headers)), clientAddress };
}
