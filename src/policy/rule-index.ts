// Finds the rules that can match a request without testing every rule: rules are bucketed by
// method and by their templates' first literal segment (a rule written with operations or
// permissions by each of its routes' method and first segment), and the candidate list for a
// (method, first segment) pair is merged once, in file order, and memoized. A service with
// 1,000 rules spread over many path prefixes costs a request about as much as one with 10.
import type { PathTemplate } from './path-template.js';
import type { CompiledRule } from './types.js';

const ANY = '';

export class RuleIndex {
  /** method (or ANY) → first segment (or ANY) → rules, in file order. */
  private readonly buckets = new Map<string, Map<string, CompiledRule[]>>();
  private readonly firstSegments = new Set<string>();
  private readonly methods = new Set<string>();
  /** Memoized candidates per `method firstSegment`; bounded by methods × first segments in the policy. */
  private readonly memo = new Map<string, readonly CompiledRule[]>();

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      if (rule.routes) {
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

  /** Rules whose method and first segment allow them to match, in file order. */
  candidates(method: string, segments: readonly string[]): readonly CompiledRule[] {
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
    const seen = new Set<CompiledRule>();
    return lists
      .flat()
      .filter((rule) => !seen.has(rule) && seen.add(rule))
      .sort((a, b) => a.index - b.index);
  }
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
