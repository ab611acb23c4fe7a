// Path templates in policy rules: `/orders`, `/orders/{id}`, `/orders/*/items`, `/orders/**`.
// They match normalized paths segment by segment; `{name}` binds one segment, `*` matches one
// segment, a final `/**` matches the prefix itself and anything below it.
import { canonicalSegment } from '../pipeline/normalize.js';

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly Segment[];
  /** True when the template ends in `/**`. */
  readonly prefix: boolean;
}

export type Params = Readonly<Record<string, string>>;

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const LITERAL_OK = /^[A-Za-z0-9\-._~!$&'()+,;=:@%]+$/;

/** Parses a template; returns a problem description instead of throwing. */
export function parsePathTemplate(source: string): PathTemplate | { problem: string } {
  if (!source.startsWith('/')) return { problem: `"${source}" must start with "/"` };
  if (source === '/') return { source, segments: [], prefix: false };
  if (source === '/**') return { source, segments: [], prefix: true };
  if (source.endsWith('/') ) return { problem: `"${source}" ends in "/": requests are matched without a trailing slash` };

  const parts = source.slice(1).split('/');
  const prefix = parts[parts.length - 1] === '**';
  if (prefix) parts.pop();
  const segments: Segment[] = [];
  const names = new Set<string>();
  for (const part of parts) {
    if (part === '') return { problem: `"${source}" has an empty segment ("//"), which normalized paths never contain` };
    if (part === '.' || part === '..') return { problem: `"${source}" has a dot segment, which normalized paths never contain` };
    if (part === '**') return { problem: `"${source}": "**" is only allowed as the last segment` };
    if (part === '*') {
      segments.push({ kind: 'wildcard' });
      continue;
    }
    const param = PARAM.exec(part);
    if (param) {
      const name = param[1]!;
      if (names.has(name)) return { problem: `"${source}" binds {${name}} twice` };
      names.add(name);
      segments.push({ kind: 'param', name });
      continue;
    }
    if (part.includes('{') || part.includes('}')) {
      return { problem: `"${source}": a parameter must be a whole segment, like {id}` };
    }
    if (!LITERAL_OK.test(part)) return { problem: `"${source}": segment "${part}" has characters a path cannot contain` };
    if (/%2f|%5c/i.test(part)) return { problem: `"${source}": encoded slashes are rejected before matching` };
    // Requests are matched in normalized form (normalize.ts), so literals are too.
    const canonical = canonicalSegment(part);
    if (!canonical.ok) return { problem: `"${source}": segment "${part}" never matches (requests are rejected for: ${canonical.problem})` };
    if (canonical.segment === '.' || canonical.segment === '..') return { problem: `"${source}" has an encoded dot segment, which normalized paths never contain` };
    segments.push({ kind: 'literal', value: canonical.segment });
  }
  return { source, segments, prefix };
}

export function isPathTemplate(value: PathTemplate | { problem: string }): value is PathTemplate {
  return 'segments' in value;
}

/** Matches normalized path segments; returns the bound parameters, or undefined when it does not match. */
export function matchPathTemplate(template: PathTemplate, segments: readonly string[]): Params | undefined {
  const count = template.segments.length;
  if (template.prefix ? segments.length < count : segments.length !== count) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < count; i++) {
    const want = template.segments[i]!;
    const got = segments[i]!;
    if (want.kind === 'literal') {
      if (want.value !== got) return undefined;
    } else if (want.kind === 'param') {
      (params ??= {})[want.name] = got;
    }
  }
  return params ?? NO_PARAMS;
}

const NO_PARAMS: Params = Object.freeze({});
