// API descriptions written as JSON are read with JSON.parse (src/registry/json-text.ts), not the
// YAML reader: the same operations as the document in YAML, problems still at their line and
// column (the positions are read only then), and a repeated key still refused as the YAML reader
// refuses it.
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, formatConfigIssue } from '../../src/errors.js';
import { parseJsonDocument } from '../../src/registry/json-text.js';
import { loadApiDescription } from '../../src/registry/openapi.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  workspace = undefined;
});

const DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'Orders', version: '2' },
  servers: [{ url: 'https://api.example.test/v1' }],
  paths: {
    '/orders': {
      get: { operationId: 'listOrders', tags: ['orders'], 'x-keycard-permission': 'orders.read', responses: { '200': { description: 'orders' } } },
      post: { operationId: 'createOrder', responses: { '201': { $ref: '#/components/responses/Created' } } },
    },
    '/orders/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'getOrder', responses: { '200': { description: 'an order' } } },
    },
  },
  components: { responses: { Created: { description: 'created' } } },
};

async function loadErrors(file: string): Promise<string[]> {
  const error = await loadApiDescription(file).then(
    () => new Error(`${file} loaded without error`),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConfigError)) throw error;
  return error.issues.map((issue) => formatConfigIssue(issue).replaceAll(workspace?.dir ?? '\0', '.'));
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function position(text: string, needle: string): string {
  const lines = text.split('\n');
  const line = lines.findIndex((entry) => entry.includes(needle));
  return `${line + 1}:${lines[line]!.indexOf(needle) + 1}`;
}

describe('a JSON API description', () => {
  it('reads the same operations as the same document written in YAML', async () => {
    workspace = new Workspace();
    const json = await loadApiDescription(workspace.write('api.json', DOCUMENT));
    const yaml = await loadApiDescription(workspace.write('api.yaml', stringify(DOCUMENT)));
    const routes = (description: typeof json) => description.operations.map((op) => `${op.method} ${op.path} ${op.operationId} ${op.permission ?? '-'} [${op.tags.join(',')}] ${op.pointer}`);
    expect(routes(json)).toEqual([
      'GET /v1/orders listOrders orders.read [orders] /paths/~1orders/get',
      'POST /v1/orders createOrder - [] /paths/~1orders/post',
      'GET /v1/orders/{id} getOrder - [] /paths/~1orders~1{id}/get',
    ]);
    expect(routes(yaml)).toEqual(routes(json));
    expect([json.title, json.version]).toEqual(['Orders', '2']);
  });

  it('reports a problem at its line and column in the JSON file', async () => {
    workspace = new Workspace();
    const broken = structuredClone(DOCUMENT) as { paths: { '/orders/{id}': { get: { responses: Record<string, unknown> } } } };
    broken.paths['/orders/{id}'].get.responses = { '404': { content: {} } };
    const text = JSON.stringify(broken, null, 2);
    workspace.write('api.json', text);
    expect(await loadErrors(workspace.path('api.json'))).toEqual([
      `./api.json:${position(text, '"404"')} [invalid_api_description] /paths/~1orders~1{id}/get/responses/404: must have required property 'description'`,
    ]);
  });

  it('refuses a key written twice, with its line and column, as the YAML reader does', async () => {
    workspace = new Workspace();
    const text = '{\n  "openapi": "3.0.3",\n  "info": { "title": "a", "title": "b", "version": "1" },\n  "paths": {}\n}\n';
    workspace.write('api.json', text);
    expect(await loadErrors(workspace.path('api.json'))).toEqual(['./api.json:3:27 [yaml_syntax] Map keys must be unique']);
  });

  it('reports JSON syntax errors through the YAML reader, with a line and column', async () => {
    workspace = new Workspace();
    workspace.write('api.json', '{\n  "openapi": "3.0.3",\n  "info": { "title": "a" "version": "1" }\n}\n');
    const [issue, ...rest] = await loadErrors(workspace.path('api.json'));
    expect(rest).toEqual([]);
    expect(issue).toMatch(/^\.\/api\.json:3:\d+ \[yaml_syntax\] /);
  });
});

describe('parseJsonDocument', () => {
  it('parses a JSON object or array', () => {
    expect(parseJsonDocument(' \n{"a": [1, {"b": "c"}]}')).toEqual({ a: [1, { b: 'c' }] });
    expect(parseJsonDocument('[{"a": 1}, {"a": 2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('leaves YAML, scalars and broken JSON to the YAML reader', () => {
    expect(parseJsonDocument('openapi: 3.0.3\n')).toBeUndefined();
    expect(parseJsonDocument('"just a string"')).toBeUndefined();
    expect(parseJsonDocument('{"a": 1,}')).toBeUndefined();
    expect(parseJsonDocument('\uFEFF{"a": 1}')).toBeUndefined();
  });

  it('finds a repeated key in the same object, also when escapes spell it differently', () => {
    expect(parseJsonDocument('{"a": 1, "b": 2, "a": 3}')).toBeUndefined();
    expect(parseJsonDocument('{"x": {"key": 1, "k\\u0065y": 2}}')).toBeUndefined();
    expect(parseJsonDocument('{"a": {"b": 1}, "c": [1, 2], "a": null}')).toBeUndefined();
  });

  it('keeps keys of different objects apart, and reads strings that look like keys as strings', () => {
    expect(parseJsonDocument('{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}')).toEqual({ a: { a: { a: 1 } }, b: [{ a: 1 }, { a: 2 }] });
    // Quotes, backslashes and colons inside strings; a value equal to a key.
    const text = '{"q": "say \\"a\\": 1", "a": "a", "path\\\\": "C:\\\\", "b": ["a", "a"], "c": "\\\\"}';
    expect(parseJsonDocument(text)).toEqual(JSON.parse(text));
  });
});
