// Finds the rules that can match a request without testing every rule: rules are bucketed by
// method and by their templates' first literal segment (a rule written with operations or
// permissions by each of its routes' method and first segment), and the candidate list for a
// (method, first segment) pair is merged once, in file order, and memoized. A service with
// 1,000 rules spread over many path prefixes costs a request about as much as one with 10.
// Given the API's routing, rules written with operations or permissions are indexed by operation
// instead: such a rule matches only the operation a request is (evaluate.ts), so the request is
// resolved once and only the rules bound to its operation are candidates. One rule per operation
// of a large API (GitHub's: 1,222, a few hundred under /repos alone) would otherwise put hundreds
// of candidates in front of every request.
import type { PathTemplate } from './path-template.js';
import type { CompiledRule } from './types.js';

const ANY = '';

/** The operation a request is, as the API description routes it (src/registry/operation-router.ts). */
export interface OperationResolver {
  resolve(method: string, segments: readonly string[]): { readonly method: string; readonly template: PathTemplate } | undefined;
}

export class RuleIndex {
  /** method (or ANY) → first segment (or ANY) → rules, in file order. */
  private readonly buckets = new Map<string, Map<string, CompiledRule[]>>();
  private readonly firstSegments = new Set<string>();
  private readonly methods = new Set<string>();
  /** Memoized candidates per `method firstSegment`; bounded by methods × first segments in the policy. */
  private readonly memo = new Map<string, readonly CompiledRule[]>();
  /** With `operations`: method → template source → the rules bound to that operation, in file order. */
  private readonly byOperation = new Map<string, Map<string, CompiledRule[]>>();
  /** Those lists merged with the other candidates, by both lists; bounded by operations × (method, first segment) keys. */
  private readonly operationMemo = new Map<readonly CompiledRule[], Map<readonly CompiledRule[], readonly CompiledRule[]>>();

  constructor(
    rules: readonly CompiledRule[],
    private readonly operations?: OperationResolver,
  ) {
    for (const rule of rules) {
      if (rule.routes && operations) {
        for (const [method, templates] of rule.routes) for (const template of templates) this.addBound(rule, method, template.source);
      } else if (rule.routes) {
        for (const [method, templates] of rule.routes) this.add(rule, [method], firstSegmentsOf(templates));
      } else {
        this.add(rule, rule.methods ? [...rule.methods] : [ANY], firstSegmentsOf(rule.paths));
      }
    }
  }

  private add(rule: CompiledRule, methods: readonly string[], firsts: readonly string[]): void {
    for (const method of methods) {
      if (method !== ANY) this.methods.add(method);
      for (const first of firsts) {
        if (first !== ANY) this.firstSegments.add(first);
        let byFirst = this.buckets.get(method);
        if (!byFirst) this.buckets.set(method, (byFirst = new Map()));
        let list = byFirst.get(first);
        if (!list) byFirst.set(first, (list = []));
        if (list[list.length - 1] !== rule) list.push(rule);
      }
    }
  }

  private addBound(rule: CompiledRule, method: string, source: string): void {
    let bySource = this.byOperation.get(method);
    if (!bySource) this.byOperation.set(method, (bySource = new Map()));
    let list = bySource.get(source);
    if (!list) bySource.set(source, (list = []));
    if (list[list.length - 1] !== rule) list.push(rule);
  }

  /**
   * Rules whose method and first segment allow them to match, in file order; of the rules bound to
   * operations (when the index has the API's routing), only those bound to the operation the request is.
   */
  candidates(method: string, segments: readonly string[]): readonly CompiledRule[] {
    const others = this.byPrefix(method, segments);
    if (this.byOperation.size === 0) return others;
    const operation = this.operations!.resolve(method, segments);
    const bound = operation && this.byOperation.get(operation.method)?.get(operation.template.source);
    if (!bound) return others;
    let byOthers = this.operationMemo.get(bound);
    if (!byOthers) this.operationMemo.set(bound, (byOthers = new Map()));
    let list = byOthers.get(others);
    if (!list) {
      list = mergeInFileOrder([others, bound]);
      byOthers.set(others, list);
    }
    return list;
  }

  private byPrefix(method: string, segments: readonly string[]): readonly CompiledRule[] {
    const methodKey = this.methods.has(method) ? method : ANY;
    const first = segments[0];
    const firstKey = first !== undefined && this.firstSegments.has(first) ? first : ANY;
    const key = `${methodKey} ${firstKey}`;
    let list = this.memo.get(key);
    if (!list) {
      list = this.merge(methodKey, firstKey);
      this.memo.set(key, list);
    }
    return list;
  }

  private merge(method: string, first: string): readonly CompiledRule[] {
    const lists: CompiledRule[][] = [];
    for (const m of new Set([method, ANY])) {
      const byFirst = this.buckets.get(m);
      for (const f of new Set([first, ANY])) {
        const list = byFirst?.get(f);
        if (list) lists.push(list);
      }
    }
    return mergeInFileOrder(lists);
  }
}

function mergeInFileOrder(lists: readonly (readonly CompiledRule[])[]): CompiledRule[] {
  const seen = new Set<CompiledRule>();
  return lists
    .flat()
    .filter((rule) => !seen.has(rule) && seen.add(rule))
    .sort((a, b) => a.index - b.index);
}

/** The literal first segments the templates start with; ANY when a template could start with anything (or for no templates: any path). */
function firstSegmentsOf(templates: readonly PathTemplate[] | undefined): string[] {
  if (!templates) return [ANY];
  const firsts = new Set<string>();
  for (const template of templates) {
    const first = template.segments[0];
    firsts.add(first?.kind === 'literal' ? first.value : ANY);
  }
  return [...firsts];
}
