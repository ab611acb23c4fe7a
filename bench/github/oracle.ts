// What the generated policy should decide, worked out from the model alone with a matcher of its
// own (a `{param}` segment matches any segment, a literal itself), not with keycard's rule index or
// path templates: when keycard and this disagree, one of them is wrong and the benchmark says so.
import type { ModelOperation, PolicyModel } from './model.js';

export interface Caller {
  readonly authenticated: boolean;
  readonly roles: ReadonlySet<string>;
}

export interface Expected {
  readonly allowed: boolean;
  readonly reason: 'allowed' | 'explicit_deny' | 'no_matching_rule' | 'authentication_required';
  /** The deciding rule: the deny rule, or the first allow rule (in policy order) that applies. */
  readonly rule: string | undefined;
}

const isParam = (segment: string) => segment.startsWith('{') && segment.endsWith('}');
const segmentsOf = (path: string) => path.split('/').filter((segment) => segment !== '');

export class Oracle {
  private readonly templates: Map<ModelOperation, string[]>;

  constructor(readonly model: PolicyModel) {
    this.templates = new Map(model.operations.map((operation) => [operation, segmentsOf(operation.path)]));
  }

  /** Operations whose method and template match a concrete request, in policy order. */
  matching(method: string, segments: readonly string[]): ModelOperation[] {
    return this.model.operations.filter((operation) => {
      const template = this.templates.get(operation)!;
      return operation.method === method && template.length === segments.length && template.every((part, i) => isParam(part) || part === segments[i]);
    });
  }

  /**
   * The operation a request is, routed as OpenAPI routes: of the matching templates, the one with a
   * literal where the others have a parameter, reading from the left.
   */
  resolve(method: string, segments: readonly string[]): ModelOperation | undefined {
    let best: ModelOperation | undefined;
    for (const operation of this.matching(method, segments)) {
      if (!best || this.moreSpecific(operation, best)) best = operation;
    }
    return best;
  }

  /** The decision for a concrete request: rules bound to operations match the operation it is. */
  decide(method: string, segments: readonly string[], caller: Caller): Expected {
    const operation = this.resolve(method, segments);
    const { deny } = this.model;
    // Deny rules apply to every caller, anonymous too; `not: { role }` holds for anyone without it.
    if (operation?.operationId === deny.operationId && !caller.roles.has(deny.unlessRole)) {
      return { allowed: false, reason: 'explicit_deny', rule: deny.id };
    }
    if (!caller.authenticated) return { allowed: false, reason: 'authentication_required', rule: undefined };
    const rule = operation && this.firstGrant(operation, caller.roles);
    return rule === undefined ? { allowed: false, reason: 'no_matching_rule', rule: undefined } : { allowed: true, reason: 'allowed', rule };
  }

  /**
   * `keycard coverage`'s decision for one role class on one operation. The deny rule stays a
   * requirement (`not` is never settled by a class), so a granted operation it matches is
   * "conditional".
   */
  coverageDecision(operation: ModelOperation, role: string | undefined): 'allow' | 'conditional' | 'deny' {
    if (role === undefined || this.firstGrant(operation, new Set([role])) === undefined) return 'deny';
    return operation.operationId === this.model.deny.operationId ? 'conditional' : 'allow';
  }

  /** The first allow rule, in policy order, that grants the operation to a caller with `roles`. */
  private firstGrant(operation: ModelOperation, roles: ReadonlySet<string>): string | undefined {
    if (operation.roles.some((role) => roles.has(role))) return operation.ruleId;
    const maintain = this.model.maintain.find((rule) => rule.tag === operation.tag && roles.has(rule.role));
    if (maintain) return maintain.id;
    return roles.has(this.model.admin.role) ? this.model.admin.id : undefined;
  }

  /** At the first segment where one has a literal and the other a parameter, `a` has the literal. */
  private moreSpecific(a: ModelOperation, b: ModelOperation): boolean {
    const x = this.templates.get(a)!;
    const y = this.templates.get(b)!;
    for (let i = 0; i < x.length; i++) {
      if (isParam(x[i]!) !== isParam(y[i]!)) return !isParam(x[i]!);
    }
    return false;
  }
}
