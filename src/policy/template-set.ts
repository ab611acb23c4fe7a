// Whether a rule's templates for a method include the template of the operation a request is. A
// rule written with match.permissions can hold hundreds of templates (an admin rule over every
// permission holds every GET of the API) and is a candidate for every request; comparing the
// sources one by one cost more than the rest of an evaluation. A long list gets a set of its
// sources, built on first use and kept as long as the (immutable, compiled) list itself.
import type { PathTemplate } from './path-template.js';

/** Up to this many templates a scan is as cheap as a lookup. */
const SCAN_LIMIT = 8;

const sets = new WeakMap<readonly PathTemplate[], ReadonlySet<string>>();

export function includesTemplate(templates: readonly PathTemplate[], template: PathTemplate): boolean {
  if (templates.length <= SCAN_LIMIT) return templates.some((candidate) => candidate.source === template.source);
  let sources = sets.get(templates);
  if (!sources) {
    sources = new Set(templates.map((candidate) => candidate.source));
    sets.set(templates, sources);
  }
  return sources.has(template.source);
}
