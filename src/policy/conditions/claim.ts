import { claimAt, scalarText } from './claims.js';
import type { CompileContext, Condition } from './types.js';
import { valueMatcherOrReport, type ValueMatchSpec } from './value-match.js';

export interface ClaimSpec extends ValueMatchSpec {
  /** Claim name, or a dotted path into nested claims (`org.id`). */
  name: string;
}

/** `claim: {name: org.id, equals: acme}`: a verified claim; an array claim matches if any element does. */
export function claimCondition(spec: ClaimSpec, context: CompileContext): Condition | undefined {
  const matcher = valueMatcherOrReport(spec, context);
  if (!matcher) return undefined;
  const path = spec.name.split('.');
  const description = `claim ${spec.name} ${matcher.description}`;
  return {
    kind: 'claim',
    category: 'plain',
    description,
    needsIdentity: true,
    reads: { claims: [path[0]!] },
    evaluate({ identity }) {
      const value = claimAt(identity, path);
      const values = value === undefined || value === null ? undefined : (Array.isArray(value) ? value : [value]).map(scalarText).filter((v): v is string => v !== undefined);
      return matcher.test(values) ? { ok: true } : { ok: false, detail: `claim ${spec.name} (${JSON.stringify(value) ?? 'absent'}) does not satisfy: ${matcher.description}` };
    },
  };
}
