// GitHub's REST API description (@octokit/openapi) as keycard can read it. The published document
// has two things keycard's path templates refuse rather than approximate (src/registry/operations.ts):
// parameter names with a "-" ({enterprise-team}: templates bind [A-Za-z_][A-Za-z0-9_]*) and a
// parameter inside a segment (/compare/{base}...{head}). The copy renames the first ("-" → "_",
// in the paths and in their parameter objects) and leaves out the second (the same route is
// /compare/{basehead}). It also gives every operation an x-keycard-permission from its first tag,
// so rules can match by permission: github.<tag>.read for GET and HEAD, github.<tag>.write otherwise.

type Json = Record<string, unknown>;

export const OPENAPI_METHODS: readonly string[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const BINDABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WHOLE_PARAM = /^\{([^{}]*)\}$/;
/** keycard's NAME_PATTERN (src/policy/schema.ts): permission names must match it. */
const PERMISSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export interface PatchedDocument {
  readonly document: Json;
  /** operationIds left out, with why. */
  readonly dropped: readonly { readonly operationId: string; readonly path: string; readonly why: string }[];
  /** Parameter names renamed, old → new. */
  readonly renamed: ReadonlyMap<string, string>;
}

export function permissionFor(tag: string, method: string): string {
  return `github.${tag}.${method === 'GET' || method === 'HEAD' ? 'read' : 'write'}`;
}

/** Patches a parsed copy of the document in place and returns it. */
export function patchDocument(document: Json): PatchedDocument {
  const paths = asObject(document.paths);
  if (!paths) throw new Error('the document has no paths');
  const components = asObject(asObject(document.components)?.parameters) ?? {};
  const dropped: { operationId: string; path: string; why: string }[] = [];
  const renamed = new Map<string, string>();
  const patchedPaths: Json = {};

  for (const [key, value] of Object.entries(paths)) {
    const item = asObject(value);
    if (!item) continue;
    const segments = key.split('/');
    const inside = segments.find((segment) => (segment.includes('{') || segment.includes('}')) && !WHOLE_PARAM.test(segment));
    if (inside !== undefined) {
      for (const operation of operationsOf(item)) dropped.push({ operationId: operationIdOf(operation.operation), path: key, why: `a parameter inside the segment "${inside}", which keycard templates cannot bind` });
      continue;
    }
    const renames = new Map<string, string>();
    for (const segment of segments) {
      const name = WHOLE_PARAM.exec(segment)?.[1];
      if (name !== undefined && !BINDABLE.test(name)) renames.set(name, name.replace(/[^A-Za-z0-9_]/g, '_'));
    }
    for (const [from, to] of renames) renamed.set(from, to);
    const newKey = segments.map((segment) => {
      const name = WHOLE_PARAM.exec(segment)?.[1];
      return name !== undefined && renames.has(name) ? `{${renames.get(name)}}` : segment;
    }).join('/');
    if (renames.size > 0) {
      renameParameters(item.parameters, renames, components);
      for (const { operation } of operationsOf(item)) renameParameters(operation.parameters, renames, components);
    }
    for (const { method, operation } of operationsOf(item)) {
      const tags = Array.isArray(operation.tags) ? operation.tags.filter((tag): tag is string => typeof tag === 'string') : [];
      const tag = tags[0];
      if (tag === undefined) throw new Error(`${method.toUpperCase()} ${key} has no tag to derive a permission from`);
      const permission = permissionFor(tag, method.toUpperCase());
      if (!PERMISSION_NAME.test(permission)) throw new Error(`tag "${tag}" of ${operationIdOf(operation)} does not make a permission name`);
      operation['x-keycard-permission'] = permission;
    }
    if (patchedPaths[newKey] !== undefined) throw new Error(`renaming parameters of ${key} collides with ${newKey}`);
    patchedPaths[newKey] = item;
  }
  document.paths = patchedPaths;
  return { document, dropped, renamed };
}

/** Renames path parameters, inline or referenced from #/components/parameters. */
function renameParameters(list: unknown, renames: ReadonlyMap<string, string>, components: Json): void {
  if (!Array.isArray(list)) return;
  for (const entry of list) {
    const inline = asObject(entry);
    if (!inline) continue;
    const ref = typeof inline.$ref === 'string' ? /^#\/components\/parameters\/([^/]+)$/.exec(inline.$ref)?.[1] : undefined;
    const parameter = ref !== undefined ? asObject(components[ref]) : inline;
    if (parameter?.in !== 'path' || typeof parameter.name !== 'string') continue;
    const to = renames.get(parameter.name);
    if (to !== undefined) parameter.name = to;
  }
}

export function operationsOf(item: Json): { method: string; operation: Json }[] {
  return Object.entries(item).flatMap(([method, value]) => {
    const operation = asObject(value);
    return OPENAPI_METHODS.includes(method) && operation ? [{ method, operation }] : [];
  });
}

function operationIdOf(operation: Json): string {
  return typeof operation.operationId === 'string' ? operation.operationId : '(no operationId)';
}

export function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
