// Compiles a policy from YAML text the way the loader does, for unit tests.
import { parseYaml, validate } from '../../src/config/yaml-file.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { policySchema } from '../../src/policy/schema.js';
import type { CompiledPolicy } from '../../src/policy/types.js';

export function compileYaml(text: string, issuers: readonly string[] = ['test-idp'], file = 'policy.yaml'): CompiledPolicy {
  const { source, value } = parseYaml(file, text);
  return compilePolicy(validate(source, policySchema, value), source, { issuers: new Set(issuers) });
}
