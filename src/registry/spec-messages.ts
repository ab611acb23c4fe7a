// The parser's checks beyond the JSON schema (duplicate operationIds, path parameters, array
// schemas without items, component names) report a place as text: "`/paths/orders/{id}/get` is
// missing path parameter(s)...", with the path written unescaped. This turns such a message back
// into pointer tokens of the dereferenced document, or [] (the document) when it names no place.

import { asJsonObject as asObject } from '../json-object.js';

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export function pointerOfSpecMessage(document: Json, message: string): string[] {
  const paths = asObject(document.paths);
  const duplicate = /^The operationId `(.+)` is duplicated/.exec(message);
  if (duplicate && paths) return secondOperationWithId(paths, duplicate[1]!);
  if (/`paths` object must begin with a leading slash/.test(message) && paths) {
    const bad = Object.keys(paths).find((key) => !key.startsWith('/'));
    return bad === undefined ? ['paths'] : ['paths', bad];
  }
  for (const [, id] of message.matchAll(/`([^`]+)`/g)) {
    if (id!.startsWith('/paths/') && paths) {
      const key = Object.keys(paths)
        .filter((path) => id === `/paths${path}` || id!.startsWith(`/paths${path}/`))
        .sort((a, b) => b.length - a.length)[0];
      if (key === undefined) continue;
      const rest = id!.slice(`/paths${key}`.length + 1);
      return ['paths', key, ...walk(paths[key], rest === '' ? [] : rest.split('/'))];
    }
    if (id!.startsWith('/components/')) {
      const [, , type, ...name] = id!.split('/');
      return ['components', type!, ...(name.length > 0 ? [name.join('/')] : [])];
    }
  }
  return [];
}

/** The second operation (in the parser's order) that declares `operationId`. */
function secondOperationWithId(paths: Json, operationId: string): string[] {
  let seen = false;
  for (const [path, item] of Object.entries(paths)) {
    const pathItem = asObject(item);
    for (const method of METHODS) {
      if (asObject(pathItem?.[method])?.operationId !== operationId) continue;
      if (seen) return ['paths', path, method, 'operationId'];
      seen = true;
    }
  }
  return ['paths'];
}

/**
 * Follows `/`-separated parts as far as the document has them: a key may itself contain `/`
 * (a media type such as application/json), and a list is entered by an item's `name` (parameters).
 */
function walk(start: unknown, parts: readonly string[]): string[] {
  const tokens: string[] = [];
  let node = start;
  let at = 0;
  while (at < parts.length) {
    if (Array.isArray(node)) {
      const index = node.findIndex((item) => asObject(item)?.name === parts[at]);
      if (index === -1) break;
      tokens.push(String(index));
      node = node[index];
      at++;
      continue;
    }
    const object = asObject(node);
    if (!object) break;
    let next = -1;
    for (let end = parts.length; end > at; end--) {
      if (Object.hasOwn(object, parts.slice(at, end).join('/'))) {
        next = end;
        break;
      }
    }
    if (next === -1) break;
    const key = parts.slice(at, next).join('/');
    tokens.push(key);
    node = object[key];
    at = next;
  }
  return tokens;
}
