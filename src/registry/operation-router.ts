// Which operation of an API description a request is: OpenAPI matches concrete paths before
// templated ones ("/orders/mine" is listMine, not getOrder with id "mine"). A rule bound to
// operations must follow the same routing, or a rule on getOrder would also open listMine.
import { matchPathTemplate, type PathTemplate } from '../policy/path-template.js';
import type { ApiOperation } from './types.js';

export class OperationRouter {
  /** method → segment count → operations, most specific first. */
  private readonly byMethod = new Map<string, Map<number, ApiOperation[]>>();

  constructor(operations: readonly ApiOperation[]) {
    for (const operation of operations) {
      let byLength = this.byMethod.get(operation.method);
      if (!byLength) this.byMethod.set(operation.method, (byLength = new Map()));
      const length = operation.template.segments.length;
      const list = byLength.get(length) ?? [];
      list.push(operation);
      byLength.set(length, list);
    }
    for (const byLength of this.byMethod.values()) for (const list of byLength.values()) list.sort((a, b) => compareSpecificity(a.template, b.template));
  }

  /** The operation the request is, or undefined when the API declares none for it. */
  resolve(method: string, segments: readonly string[]): ApiOperation | undefined {
    const candidates = this.byMethod.get(method)?.get(segments.length);
    return candidates?.find((operation) => matchPathTemplate(operation.template, segments) !== undefined);
  }
}

/** Negative when `a` is more specific: the first segment where they differ decides, a literal beating a parameter. */
function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  for (let i = 0; i < a.segments.length; i++) {
    const literalA = a.segments[i]!.kind === 'literal';
    const literalB = b.segments[i]!.kind === 'literal';
    if (literalA !== literalB) return literalA ? -1 : 1;
  }
  return 0;
}
