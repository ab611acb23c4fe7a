// The operations of a validated, dereferenced OpenAPI 3.0/3.1 document as keycard routes: the
// `servers` base path (the first server's URL path, variables at their defaults; a path item's or
// operation's own `servers` win) joined with the OpenAPI path, in keycard's path-template syntax.
// Whatever keycard's templates cannot express exactly is a problem, never an approximation.
import { asJsonObject as asObject } from '../json-object.js';
import { isPathTemplate, parsePathTemplate } from '../policy/path-template.js';
import { NAME_PATTERN } from '../policy/schema.js';
import { toPointer } from './json-pointer.js';
import type { ApiOperation } from './types.js';

type Json = Record<string, unknown>;

/** Methods an OpenAPI path item may have, in the order the specification lists them. */
export const OPENAPI_METHODS: readonly string[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** A place in the dereferenced document (pointer tokens) and what is wrong there. */
export interface Problem {
  readonly tokens: readonly string[];
  readonly message: string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function operationsOf(document: Json): { operations: ApiOperation[]; problems: Problem[] } {
  const operations: ApiOperation[] = [];
  const problems: Problem[] = [];
  const documentBase = basePath(document.servers, ['servers'], problems);
  for (const [key, value] of Object.entries(asObject(document.paths) ?? {})) {
    const pathItem = asObject(value);
    if (!pathItem) continue;
    const apiPath = templateOfPath(key);
    if (typeof apiPath !== 'string') {
      problems.push({ tokens: ['paths', key], message: apiPath.problem });
      continue;
    }
    const pathBase = pathItem.servers === undefined ? documentBase : basePath(pathItem.servers, ['paths', key, 'servers'], problems);
    for (const [method, operationValue] of Object.entries(pathItem)) {
      if (!OPENAPI_METHODS.includes(method)) continue;
      const operation = asObject(operationValue);
      if (!operation) continue;
      const tokens = ['paths', key, method];
      const base = operation.servers === undefined ? pathBase : basePath(operation.servers, [...tokens, 'servers'], problems);
      if (base === undefined) continue;
      const full = joinPath(base, apiPath);
      const template = parsePathTemplate(full);
      if (!isPathTemplate(template)) {
        problems.push({ tokens: ['paths', key], message: `keycard cannot match the path ${full}: ${template.problem}` });
        continue;
      }
      const permission = operation['x-keycard-permission'];
      if (permission !== undefined && (typeof permission !== 'string' || !NAME_PATTERN.test(permission))) {
        problems.push({ tokens: [...tokens, 'x-keycard-permission'], message: 'x-keycard-permission must be a permission name: letters, digits, ".", ":", "_" and "-"' });
        continue;
      }
      operations.push({
        operationId: typeof operation.operationId === 'string' ? operation.operationId : undefined,
        method: method.toUpperCase(),
        path: full,
        template,
        params: template.segments.flatMap((segment) => (segment.kind === 'param' ? [segment.name] : [])),
        permission,
        tags: Array.isArray(operation.tags) ? operation.tags.filter((tag): tag is string => typeof tag === 'string') : [],
        pointer: toPointer(tokens),
      });
    }
  }
  return { operations, problems };
}

/**
 * An OpenAPI path as a keycard template: `{name}` must be a whole segment, since keycard binds
 * whole segments only; a literal `*` or `**` would read as a wildcard. A trailing slash is
 * dropped, as request paths are matched without one.
 */
function templateOfPath(key: string): string | { problem: string } {
  const trimmed = key.length > 1 && key.endsWith('/') ? key.slice(0, -1) : key;
  if (trimmed === '/') return trimmed;
  for (const segment of trimmed.split('/').slice(1)) {
    if (segment === '') return { problem: `the path ${key} has an empty segment ("//"), which keycard never matches` };
    if (segment === '*' || segment === '**') return { problem: `the path ${key} has a literal "${segment}" segment, which keycard templates read as a wildcard` };
    const param = /^\{([^{}]*)\}$/.exec(segment);
    if (param) {
      if (!PARAM_NAME.test(param[1]!)) {
        return { problem: `the path parameter {${param[1]}} of ${key} has a name keycard templates cannot bind: use letters, digits and "_", not starting with a digit` };
      }
      continue;
    }
    if (segment.includes('{') || segment.includes('}')) {
      return { problem: `the path ${key} has a parameter inside the segment "${segment}": keycard binds whole segments only, like /files/{name}` };
    }
  }
  return trimmed;
}

function joinPath(base: string, apiPath: string): string {
  if (apiPath === '/') return base === '' ? '/' : base;
  return `${base}${apiPath}`;
}

/**
 * The path of the first server's URL ("" for the root), variables replaced by their defaults.
 * Undefined (with a problem recorded) when the URL cannot be read.
 */
function basePath(servers: unknown, tokens: readonly string[], problems: Problem[]): string | undefined {
  if (!Array.isArray(servers) || servers.length === 0) return '';
  const server = asObject(servers[0]);
  const at = [...tokens, '0', 'url'];
  if (!server || typeof server.url !== 'string') return '';
  const variables = asObject(server.variables) ?? {};
  let missing: string | undefined;
  const url = server.url.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
    const fallback = asObject(variables[name])?.default;
    if (typeof fallback === 'string') return fallback;
    missing ??= name;
    return whole;
  });
  if (missing !== undefined) {
    problems.push({ tokens: at, message: `the server variable {${missing}} has no default in servers[0].variables` });
    return undefined;
  }
  let pathname: string;
  try {
    pathname = new URL(url, 'http://server.invalid/').pathname;
  } catch {
    problems.push({ tokens: at, message: `the server URL "${url}" cannot be read` });
    return undefined;
  }
  return pathname.replace(/\/+$/, '');
}
