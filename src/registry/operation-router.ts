// Which operation of an API description a request is: OpenAPI matches concrete paths before
// templated ones ("/orders/mine" is listMine, not getOrder with id "mine"). A rule bound to
// operations must follow the same routing, or a rule on getOrder would also open listMine.
// The templates of each method form a tree of segments, walked literal child first: the first
// operation reached is the most specific match (at the first segment where two matching templates
// differ, the one with the literal), in one step per segment instead of a template-by-template scan
// (GitHub's API has 160 GET templates of one length; every request is routed).
import type { ApiOperation } from './types.js';

interface Node {
  readonly literals: Map<string, Node>;
  /** A parameter (or `*`) segment: matches any segment. */
  param: Node | undefined;
  /** Operations whose template ends here, in document order (the first wins a tie). */
  readonly operations: ApiOperation[];
}

const node = (): Node => ({ literals: new Map(), param: undefined, operations: [] });

export class OperationRouter {
  private readonly byMethod = new Map<string, Node>();

  constructor(operations: readonly ApiOperation[]) {
    for (const operation of operations) {
      let at: Node | undefined = this.byMethod.get(operation.method);
      if (!at) this.byMethod.set(operation.method, (at = node()));
      for (const segment of operation.template.segments) {
        if (segment.kind === 'literal') {
          let next: Node | undefined = at.literals.get(segment.value);
          if (!next) at.literals.set(segment.value, (next = node()));
          at = next;
        } else {
          at = at.param ??= node();
        }
      }
      at.operations.push(operation);
    }
  }

  /** The operation the request is, or undefined when the API declares none for it. */
  resolve(method: string, segments: readonly string[]): ApiOperation | undefined {
    const root = this.byMethod.get(method);
    return root && find(root, segments, 0);
  }
}

/**
 * Literal child first, then the parameter child. Each segment tries at most two children, so the
 * walk is bounded by 2^(the longest template's length), set by the API's author, not the caller.
 */
function find(at: Node, segments: readonly string[], index: number): ApiOperation | undefined {
  if (index === segments.length) return at.operations[0];
  const literal = at.literals.get(segments[index]!);
  if (literal) {
    const found = find(literal, segments, index + 1);
    if (found) return found;
  }
  return at.param && find(at.param, segments, index + 1);
}
