// Rules that can never decide: an allow rule is shadowed when an earlier allow rule applies to
// every request it applies to. That takes three covers: methods (a superset), paths (every path
// the later rule's templates match is matched by one of the earlier rule's templates) and
// callers (the earlier rule's conditions hold whenever the later one's do, and it is no stricter
// about anonymous callers). The path cover is exact for the template language (literal, `{param}`,
// `*`, final `/**`); the condition cover is syntactic, so it may miss a shadow but never invents one.
import type { ConditionSpec } from './conditions/schema.js';
import type { PathTemplate } from './path-template.js';
import type { CompiledRule } from './types.js';

/** `undefined` (no `match.methods`) is every method, including ones no list can name. */
export function methodsCover(outer: ReadonlySet<string> | undefined, inner: ReadonlySet<string> | undefined): boolean {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  for (const method of inner) if (!outer.has(method)) return false;
  return true;
}

/** `/**`: what a rule without `match.paths` matches. */
const ANY_PATH: PathTemplate = { source: '/**', segments: [], prefix: true };

/** Every path `inner` matches is matched by `outer`. */
export function templateCovers(outer: PathTemplate, inner: PathTemplate): boolean {
  return templatesCover([outer], inner);
}

/**
 * Every path `inner` matches is matched by at least one of `outer` (so `[/a, /a/*\/**]` covers
 * `/a/**` although neither does alone). Exact: the search splits each `{param}` or `*` segment of
 * `inner` into the literals the outer templates name at that position and "any other value".
 * Gives up (answers false) past `budget` steps, which real policies never reach.
 */
export function templatesCover(outer: readonly PathTemplate[], inner: PathTemplate, budget = 10_000): boolean {
  let steps = 0;
  const visit = (depth: number, alive: readonly PathTemplate[]): boolean => {
    if (++steps > budget) return false;
    // An outer `/**` template whose segments all matched covers this path and everything below it.
    if (alive.some((template) => template.prefix && template.segments.length <= depth)) return true;
    if (alive.length === 0) return false;
    const endsHere = (template: PathTemplate) => !template.prefix && template.segments.length === depth;
    if (depth >= inner.segments.length) {
      // The path may end here (inner matches exactly this length, or its `/**` includes the prefix itself).
      if (!alive.some(endsHere)) return false;
      if (!inner.prefix) return true;
      // Longer paths: only templates with segments left can still match them.
      const longer = alive.filter((template) => template.segments.length > depth);
      return longer.length > 0 && branch(depth, longer, undefined);
    }
    const segment = inner.segments[depth]!;
    return branch(depth, alive.filter((template) => template.segments.length > depth || template.prefix), segment.kind === 'literal' ? segment.value : undefined);
  };
  /** Next segment: the given literal, or every value class a wildcard of `inner` can take. */
  const branch = (depth: number, alive: readonly PathTemplate[], literal: string | undefined): boolean => {
    const values = literal !== undefined ? [literal] : [...literalsAt(alive, depth), undefined];
    return values.every((value) => visit(depth + 1, alive.filter((template) => segmentAccepts(template, depth, value))));
  };
  return visit(0, outer);
}

/** Literals the templates name at `depth`. */
function literalsAt(templates: readonly PathTemplate[], depth: number): Set<string> {
  const out = new Set<string>();
  for (const template of templates) {
    const segment = template.segments[depth];
    if (segment?.kind === 'literal') out.add(segment.value);
  }
  return out;
}

/** Whether the template accepts a segment at `depth`; `value` undefined stands for a value no template names. */
function segmentAccepts(template: PathTemplate, depth: number, value: string | undefined): boolean {
  const segment = template.segments[depth];
  if (segment === undefined) return template.prefix;
  return segment.kind !== 'literal' || segment.value === value;
}

/** `undefined` (no `match.paths`) is every path. */
export function pathsCover(outer: readonly PathTemplate[] | undefined, inner: readonly PathTemplate[] | undefined): boolean {
  const outerTemplates = outer ?? [ANY_PATH];
  return (inner ?? [ANY_PATH]).every((template) => templatesCover(outerTemplates, template));
}

/** A `when:` entry reduced to what comparing conditions needs. */
export interface ConditionKey {
  /** Canonical text: equal keys are the same condition (set-like lists sorted, duplicates dropped). */
  readonly key: string;
  /** For `role:`: holds when the caller has any of these. */
  readonly anyRole?: ReadonlySet<string>;
  /** For `scope:`: holds when the token has all of these. */
  readonly allScopes?: ReadonlySet<string>;
  /** Refers to a path parameter (`relation: "order:{id}#owner"`): its value depends on the template. */
  readonly usesPathParams: boolean;
}

/** List-valued keys whose order and duplicates do not matter. */
const SET_KEYS = new Set(['role', 'scope', 'acr', 'sourceCidr', 'principal', 'oneOf', 'days']);

export function conditionKey(spec: ConditionSpec): ConditionKey {
  const key = canonical(spec);
  return {
    key,
    ...(spec.role && { anyRole: new Set(spec.role) }),
    ...(spec.scope && { allScopes: new Set(spec.scope) }),
    usesPathParams: /relation":"[^"]*\{/.test(key),
  };
}

function canonical(value: unknown, setLike = false): string {
  if (Array.isArray(value)) {
    const items = value.map((item) => canonical(item));
    return `[${(setLike ? [...new Set(items)].sort() : items).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // anyOf options are alternatives: their order does not matter either.
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item, SET_KEYS.has(name) || name === 'anyOf')}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whenever every condition of `inner` holds, so does `condition`. */
function implied(condition: ConditionKey, inner: readonly ConditionKey[]): boolean {
  return inner.some((other) => {
    if (other.key === condition.key) return true;
    // role [a, b, c] holds whenever role [a, b] does; scope [x] whenever scope [x, y] does.
    if (condition.anyRole && other.anyRole) return [...other.anyRole].every((role) => condition.anyRole!.has(role));
    if (condition.allScopes && other.allScopes) return [...condition.allScopes].every((scope) => other.allScopes!.has(scope));
    return false;
  });
}

/** Whenever `inner`'s conditions all hold, `outer`'s do. */
export function conditionsCover(outer: readonly ConditionKey[], inner: readonly ConditionKey[]): boolean {
  return outer.every((condition) => implied(condition, inner));
}

export type ShadowRule = Pick<CompiledRule, 'id' | 'effect' | 'methods' | 'paths' | 'routes' | 'anonymous' | 'permission' | 'grants'> & {
  readonly conditions: readonly ConditionKey[];
};

export interface Shadowing<R extends ShadowRule = ShadowRule> {
  /** The allow rule that never decides. */
  readonly rule: R;
  /** The earlier allow rule that always decides first. */
  readonly by: R;
}

export interface ShadowOptions {
  /**
   * The service forwards the permissions header: every allow rule whose conditions hold grants
   * its permissions, so a shadowed rule with a permission of its own still has an effect.
   */
  readonly permissionsHeader?: boolean;
}

/** Whether `earlier` applies to every request and caller `later` applies to. */
export function shadows(earlier: ShadowRule, later: ShadowRule): boolean {
  if (earlier.effect !== 'allow' || later.effect !== 'allow') return false;
  if (later.anonymous && !earlier.anonymous) return false;
  // A path parameter may be bound to different segments by the two rules' templates.
  if (earlier.conditions.some((condition) => condition.usesPathParams)) return false;
  return matchCovers(earlier, later) && conditionsCover(earlier.conditions, later.conditions);
}

/** A rule's requests as (methods, paths) clauses: methods × paths as written, or one clause per method of its routes. */
interface MatchClause {
  readonly methods: ReadonlySet<string> | undefined;
  readonly paths: readonly PathTemplate[] | undefined;
}

function clausesOf(rule: Pick<ShadowRule, 'methods' | 'paths' | 'routes'>): MatchClause[] {
  if (rule.routes) return [...rule.routes].map(([method, templates]) => ({ methods: new Set([method]), paths: templates }));
  return [{ methods: rule.methods, paths: rule.paths }];
}

/**
 * Every request `later` matches, `earlier` matches: for each method of each of later's clauses,
 * the paths of earlier's clauses that accept the method cover the clause's paths. (A clause for
 * every method is covered by earlier's clauses for every method only.) For two rules written with
 * methods and paths this is methodsCover and pathsCover.
 */
export function matchCovers(earlier: Pick<ShadowRule, 'methods' | 'paths' | 'routes'>, later: Pick<ShadowRule, 'methods' | 'paths' | 'routes'>): boolean {
  const outer = clausesOf(earlier);
  return clausesOf(later).every((clause) => {
    if (clause.methods === undefined) return pathsCover(unionOfPaths(outer.filter((o) => o.methods === undefined)), clause.paths);
    return [...clause.methods].every((method) => pathsCover(unionOfPaths(outer.filter((o) => o.methods === undefined || o.methods.has(method))), clause.paths));
  });
}

/** The templates of the clauses together; undefined (every path) when one of them has no paths. */
function unionOfPaths(clauses: readonly MatchClause[]): readonly PathTemplate[] | undefined {
  if (clauses.some((clause) => clause.paths === undefined)) return undefined;
  return clauses.flatMap((clause) => clause.paths!);
}

/** Allow rules (in file order) that an earlier allow rule always decides for; each with the first such rule. */
export function findShadowedRules<R extends ShadowRule>(rules: readonly R[], options: ShadowOptions = {}): Shadowing<R>[] {
  const found: Shadowing<R>[] = [];
  rules.forEach((rule, index) => {
    if (rule.effect !== 'allow') return;
    const by = rules
      .slice(0, index)
      .find((earlier) => shadows(earlier, rule) && !(options.permissionsHeader && !rule.grants.every((name) => earlier.grants.includes(name))));
    if (by) found.push({ rule, by });
  });
  return found;
}
