// Compiles one `when:` entry to a Condition. Adding a condition kind: a file here, a key in
// schema.ts, a line in COMPILERS.
import { attributeCondition } from './attribute.js';
import { acrCondition, maxAuthAgeCondition, mfaCondition } from './authn-strength.js';
import { claimCondition } from './claim.js';
import { anyOfCondition, notCondition } from './combinators.js';
import { headerCondition } from './header.js';
import { principalCondition } from './principal.js';
import { relationCondition } from './relation.js';
import { roleCondition } from './role.js';
import type { ConditionSpec } from './schema.js';
import { scopeCondition } from './scope.js';
import { sourceCidrCondition } from './source-cidr.js';
import type { CompileContext, Condition } from './types.js';
import { timeWindowCondition } from './time-window.js';

type Compilers = { [K in keyof ConditionSpec]-?: (value: NonNullable<ConditionSpec[K]>, context: CompileContext) => Condition | undefined };

const COMPILERS: Compilers = {
  role: (roles) => roleCondition(roles),
  scope: (scopes) => scopeCondition(scopes),
  claim: claimCondition,
  header: headerCondition,
  sourceCidr: sourceCidrCondition,
  timeWindow: timeWindowCondition,
  mfa: (required, context) => mfaCondition(required, context.stepUp),
  acr: (values) => acrCondition(values),
  maxAuthAge: (ms) => maxAuthAgeCondition(ms),
  relation: relationCondition,
  principal: principalCondition,
  attribute: attributeCondition,
  not: (inner, context) => {
    const compiled = compileCondition(inner, context);
    return compiled && notCondition(compiled);
  },
  anyOf: (options, context) => {
    const compiled = options.map((option: ConditionSpec, index: number) => compileCondition(option, nested(context, index)));
    return compiled.every((condition) => condition !== undefined) ? anyOfCondition(compiled as Condition[]) : undefined;
  },
};

/** Returns undefined after reporting problems through `context.issue`. */
export function compileCondition(spec: ConditionSpec, context: CompileContext): Condition | undefined {
  const key = Object.keys(spec)[0] as keyof ConditionSpec & string;
  const compile = COMPILERS[key] as (value: unknown, context: CompileContext) => Condition | undefined;
  return compile(spec[key], nested(context, key));
}

function nested(context: CompileContext, ...path: (string | number)[]): CompileContext {
  return { ...context, issue: (code, rest, message) => context.issue(code, [...path, ...rest], message) };
}
