// Builds ApiDescription values directly, the way the OpenAPI loader would, for engine tests.
import { isPathTemplate, parsePathTemplate } from '../../../src/policy/path-template.js';
import type { ApiDescription, ApiOperation } from '../../../src/registry/types.js';

/** `GET /orders/{id} getOrder orders.read`: method, path, then optional operationId and permission ("-" for none). */
export function operation(line: string): ApiOperation {
  const [method, path, operationId, permission] = line.split(/\s+/) as [string, string, string?, string?];
  const template = parsePathTemplate(path);
  if (!isPathTemplate(template)) throw new Error(template.problem);
  const params = template.segments.flatMap((segment) => (segment.kind === 'param' ? [segment.name] : []));
  const id = operationId === undefined || operationId === '-' ? undefined : operationId;
  return {
    operationId: id,
    method,
    path,
    template,
    params,
    permission: permission === undefined || permission === '-' ? undefined : permission,
    tags: [],
    pointer: `/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}`,
  };
}

export function api(...lines: string[]): ApiDescription {
  return { file: 'openapi.yaml', title: 'test', version: '1', operations: lines.map(operation) };
}
