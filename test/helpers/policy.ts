// Compiles a policy from YAML text the way the loader does, for unit tests.
import { parseYaml, validate } from '../../src/config/yaml-file.js';
import { ANONYMOUS, type AuthenticatedIdentity } from '../../src/authn/identity.js';
import { compilePolicy, type CompileOptions } from '../../src/policy/compile.js';
import type { CallerContext } from '../../src/policy/evaluate.js';
import { policySchema } from '../../src/policy/schema.js';
import type { CompiledPolicy } from '../../src/policy/types.js';

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
