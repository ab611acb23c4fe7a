// A concrete request path standing for every request to an operation: each `{param}` becomes a
// segment no policy literal can equal (`%7Bparam%7D`, the normalized form of a literal "{param}"),
// so a rule matches it only through a parameter or wildcard, i.e. for every value of the parameter.
// The segment also carries the API's parameter name, so the name a rule binds it under can be
// compared with the API's.
import type { PathTemplate } from '../../policy/path-template.js';

const PLACEHOLDER = /^%7B([A-Za-z_][A-Za-z0-9_]*)%7D$/;
/** Stands for a `*` segment in an API template (OpenAPI has none, but the model allows it). */
const WILDCARD_SEGMENT = '%2A';

export function representativeSegments(template: PathTemplate): string[] {
  return template.segments.map((segment) => {
    if (segment.kind === 'literal') return segment.value;
    if (segment.kind === 'param') return `%7B${segment.name}%7D`;
    return WILDCARD_SEGMENT;
  });
}

export function representativePath(template: PathTemplate): string {
  return `/${representativeSegments(template).join('/')}`;
}

/** The API parameter name a representative segment stands for, if it is a placeholder. */
export function placeholderName(segment: string): string | undefined {
  return PLACEHOLDER.exec(segment)?.[1];
}

/**
 * Whether some request path matches both templates: segment by segment, two literals must be
 * equal; a parameter or wildcard matches anything; a final `/**` matches any further segments.
 */
export function templatesOverlap(a: PathTemplate, b: PathTemplate): boolean {
  const lengthsFit =
    a.prefix && b.prefix
      ? true
      : a.prefix
        ? b.segments.length >= a.segments.length
        : b.prefix
          ? a.segments.length >= b.segments.length
          : a.segments.length === b.segments.length;
  if (!lengthsFit) return false;
  const shared = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < shared; i++) {
    const x = a.segments[i]!;
    const y = b.segments[i]!;
    if (x.kind === 'literal' && y.kind === 'literal' && x.value !== y.value) return false;
  }
  return true;
}
