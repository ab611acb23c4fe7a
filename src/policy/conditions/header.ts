import type { CompileContext, Condition } from './types.js';
import { valueMatcherOrReport, type ValueMatchSpec } from './value-match.js';

export interface HeaderSpec extends ValueMatchSpec {
  name: string;
}

/** `header: {name: x-tenant, matches: "acme-[a-z]+"}`: a request header (case-insensitive name). */
export function headerCondition(spec: HeaderSpec, context: CompileContext): Condition | undefined {
  const matcher = valueMatcherOrReport(spec, context);
  if (!matcher) return undefined;
  const name = spec.name.toLowerCase();
  if (name.startsWith('x-keycard-')) {
    context.issue('invalid_value', ['name'], 'x-keycard-* headers are keycard\'s own and are removed from client requests');
    return undefined;
  }
  return {
    kind: 'header',
    category: 'plain',
    description: `header ${name} ${matcher.description}`,
    needsIdentity: false,
    reads: { headers: [name] },
    evaluate({ request }) {
      const value = request.headers.get(name);
      return matcher.test(value === undefined ? undefined : [value])
        ? { ok: true }
        : { ok: false, detail: `header ${name} ${value === undefined ? 'is absent' : `(${JSON.stringify(value)})`} does not satisfy: ${matcher.description}` };
    },
  };
}
