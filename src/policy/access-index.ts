// Finds the access rules (`match.actions`/`match.resources`) that can answer a question about a
// resource type and action: rules are bucketed by resource type, and the candidate list for a
// (type, action) pair is filtered once, in file order, and memoized. HTTP rules are never here,
// and a policy without access rules has an empty index that Check never consults.
import type { CompiledRule } from './types.js';

export class AccessRuleIndex {
  private readonly byType = new Map<string, CompiledRule[]>();
  /** Memoized candidates per type, then per action; bounded by the actions the rules name (others share one list). */
  private readonly memo = new Map<string, Map<string, readonly CompiledRule[]>>();
  private readonly namedActions = new Set<string>();

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      if (!rule.access) continue;
      for (const type of new Set(rule.access.resources)) {
        let list = this.byType.get(type);
        if (!list) this.byType.set(type, (list = []));
        list.push(rule);
      }
      for (const action of rule.access.actions ?? []) this.namedActions.add(action);
    }
  }

  /** The access rules naming `resourceType` whose actions include `action` (or that name none), in file order. */
  candidates(resourceType: string, action: string): readonly CompiledRule[] {
    const rules = this.byType.get(resourceType);
    if (!rules) return NONE;
    // An action no rule names matches only rules without `actions`: one shared list, so arbitrary
    // action names from callers cannot grow the memo.
    const key = this.namedActions.has(action) ? action : '';
    let byAction = this.memo.get(resourceType);
    if (!byAction) this.memo.set(resourceType, (byAction = new Map()));
    let list = byAction.get(key);
    if (!list) {
      list = rules.filter((rule) => rule.access!.actions === undefined || (key !== '' && rule.access!.actions.has(key)));
      byAction.set(key, list);
    }
    return list;
  }

  get resourceTypes(): readonly string[] {
    return [...this.byType.keys()];
  }
}

const NONE: readonly CompiledRule[] = [];
