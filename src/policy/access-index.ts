// Finds the access rules (`match.actions`/`match.resources`) that can answer a question about a
// resource type and action. Every candidate list is built when the policy loads, in file order:
// per resource type, one list per action its rules name, and one for any other action (the rules
// naming no actions). Questions only read, so arbitrary action names from callers cannot grow
// anything. The actions each type's rules name (action search candidates) are listed at load too.
// HTTP rules are never here, and a policy without access rules has an empty index that Check never
// consults.
import type { CompiledRule } from './types.js';

interface TypeEntry {
  /** Rules naming the action, or naming none: per action the type's rules name. */
  readonly byAction: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules naming no actions: the candidates for any other action. */
  readonly anyAction: readonly CompiledRule[];
  /** The actions the type's rules name, in the order first written. */
  readonly actions: readonly string[];
}

export class AccessRuleIndex {
  private readonly byType = new Map<string, TypeEntry>();

  constructor(rules: readonly CompiledRule[]) {
    const rulesByType = new Map<string, CompiledRule[]>();
    for (const rule of rules) {
      if (!rule.access) continue;
      for (const type of new Set(rule.access.resources)) {
        let list = rulesByType.get(type);
        if (!list) rulesByType.set(type, (list = []));
        list.push(rule);
      }
    }
    for (const [type, typeRules] of rulesByType) {
      const actions = new Set<string>();
      for (const rule of typeRules) for (const action of rule.access!.actions ?? []) actions.add(action);
      const byAction = new Map<string, readonly CompiledRule[]>();
      for (const action of actions) byAction.set(action, typeRules.filter((rule) => rule.access!.actions === undefined || rule.access!.actions.has(action)));
      const anyAction = typeRules.filter((rule) => rule.access!.actions === undefined);
      this.byType.set(type, { byAction, anyAction, actions: [...actions] });
    }
  }

  /** The access rules naming `resourceType` whose actions include `action` (or that name none), in file order. */
  candidates(resourceType: string, action: string): readonly CompiledRule[] {
    const entry = this.byType.get(resourceType);
    if (!entry) return NONE;
    return entry.byAction.get(action) ?? entry.anyAction;
  }

  /** The actions the access rules naming `resourceType` name, in the order first written. */
  declaredActions(resourceType: string): readonly string[] {
    return this.byType.get(resourceType)?.actions ?? NONE_NAMED;
  }

  get resourceTypes(): readonly string[] {
    return [...this.byType.keys()];
  }
}

const NONE: readonly CompiledRule[] = [];
const NONE_NAMED: readonly string[] = [];
