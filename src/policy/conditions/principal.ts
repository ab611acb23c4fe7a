// `principal: spiffe://cluster.local/ns/shop/sa/checkout` (or a list): the connection's mTLS peer,
// as Envoy reports it (`source.principal`), is one of the patterns, whatever credential
// authenticated the request. So "alice, calling through the checkout service" is a JWT caller
// plus this condition. A pattern is exact, or ends in "/*" to match any path below its prefix.
import { principalProblem } from '../../authn/credentials/peer-principal.js';
import type { CompileContext, Condition } from './types.js';

export interface PrincipalPattern {
  readonly text: string;
  test(principal: string): boolean;
}

export function principalCondition(patterns: readonly string[], context: CompileContext): Condition | undefined {
  const compiled: PrincipalPattern[] = [];
  patterns.forEach((text, index) => {
    const pattern = compilePrincipalPattern(text);
    if (typeof pattern === 'string') context.issue('invalid_value', [index], pattern);
    else compiled.push(pattern);
  });
  if (compiled.length !== patterns.length) return undefined;
  const list = `[${patterns.join(', ')}]`;
  return {
    kind: 'principal',
    category: 'plain',
    description: `peer principal in ${list}`,
    // The connection's identity, not the caller's: anonymous rules may use it.
    needsIdentity: false,
    evaluate({ request }) {
      const principal = request.peerPrincipal;
      if (principal === undefined) return { ok: false, detail: `no peer principal (not an mTLS connection), not in ${list}` };
      // A malformed ID never matches: spiffe://td/ns/shop/../admin must not pass for ns/shop/*.
      const problem = principalProblem(principal);
      if (problem !== undefined) return { ok: false, detail: `peer principal ${JSON.stringify(principal)} is malformed: ${problem}` };
      if (compiled.some((pattern) => pattern.test(principal))) return { ok: true };
      return { ok: false, detail: `peer principal ${principal} is not in ${list}` };
    },
  };
}

/** A matcher for `text`, or why it is not a valid pattern. */
export function compilePrincipalPattern(text: string): PrincipalPattern | string {
  const wildcard = text.endsWith('/*');
  const fixed = wildcard ? text.slice(0, -2) : text;
  if (fixed.includes('*')) return `"${text}": "*" may only be the last path segment ("…/*")`;
  if (fixed === '') return `"${text}": a "/*" pattern needs a prefix, e.g. spiffe://cluster.local/ns/shop/*`;
  // A "/*" pattern is checked as the ID of its prefix with one more segment: spiffe://td/* is fine.
  const problem = principalProblem(wildcard ? `${fixed}/x` : fixed);
  if (problem !== undefined) return `"${text}" is not a valid principal: ${problem}`;
  if (!wildcard) return { text, test: (principal) => principal === text };
  const prefix = `${fixed}/`;
  return { text, test: (principal) => principal.length > prefix.length && principal.startsWith(prefix) };
}
