// The endpoint registry reads a service's OpenAPI 3.0/3.1 document (YAML or JSON, `$ref`s across
// files) through @readme/openapi-parser, and reports every problem at its place: file, line,
// column and JSON pointer, in the file where the problem is written.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../src/errors.js';
import { ApiDescriptionCache } from '../../src/registry/api-cache.js';
import { loadApiDescription, loadApiDocument } from '../../src/registry/openapi.js';
import { Workspace } from '../helpers/workspace.js';

const FIXTURES = 'test/fixtures/openapi';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  workspace = undefined;
});

/** The formatted issues of a description that must fail to load, the workspace directory written as ".". */
async function loadErrors(file: string): Promise<string[]> {
  const error = await loadApiDescription(file).then(
    () => new Error(`${file} loaded without error`),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConfigError)) throw error;
  return error.issues.map((issue) => formatConfigIssue(issue).replaceAll(workspace?.dir ?? '\0', '.'));
}

/** method path → operationId, permission, params, tags and pointer, one line each. */
function routes(operations: Awaited<ReturnType<typeof loadApiDescription>>['operations']): string[] {
  return operations.map(
    (op) => `${op.method} ${op.path} ${op.operationId ?? '-'} ${op.permission ?? '-'} [${op.params.join(',')}] [${op.tags.join(',')}] ${op.pointer}`,
  );
}

describe('loading an OpenAPI description', () => {
  it('reads OpenAPI 3.0 YAML split over files, with the servers base path, variables at their defaults and overrides', async () => {
    const { description, files } = await loadApiDocument(`${FIXTURES}/orders-3.0/openapi.yaml`);
    expect(description.file).toBe(`${FIXTURES}/orders-3.0/openapi.yaml`);
    expect([description.title, description.version]).toEqual(['Orders', '2.4.0']);
    expect(routes(description.operations)).toEqual([
      // Path items reached by $ref into paths/orders.yaml; base path /api/v1 from https://{region}.../api/{version}.
      'GET /api/v1/orders listOrders orders.read [] [orders] /paths/~1orders/get',
      'POST /api/v1/orders createOrder orders.write [] [] /paths/~1orders/post',
      'GET /api/v1/orders/{id} getOrder orders.read [id] [orders] /paths/~1orders~1{id}/get',
      'DELETE /api/v1/orders/{id} deleteOrder orders.write [id] [] /paths/~1orders~1{id}/delete',
      'POST /api/v1/orders/{id}/refund refundOrder orders.refund [id] [] /paths/~1orders~1{id}~1refund/post',
      // The path item's own `servers: [{ url: / }]` wins over the document's.
      'GET /healthz health - [] [] /paths/~1healthz/get',
      // The operation's own server wins; the trailing slash of `/reports/` is dropped.
      'GET /internal/reports listReports - [] [reports] /paths/~1reports~1/get',
    ]);
    expect(description.operations[2]!.template.segments).toEqual([
      { kind: 'literal', value: 'api' },
      { kind: 'literal', value: 'v1' },
      { kind: 'literal', value: 'orders' },
      { kind: 'param', name: 'id' },
    ]);
    // Every file the $refs reached (the circular Order schema included), for the version hash and the watcher.
    expect([...files.keys()].map((file) => file.slice(file.indexOf(FIXTURES)))).toEqual([
      `${FIXTURES}/orders-3.0/openapi.yaml`,
      `${FIXTURES}/orders-3.0/paths/orders.yaml`,
      `${FIXTURES}/orders-3.0/paths/schemas.yaml`,
    ]);
  });

  it('reads OpenAPI 3.1 JSON with a $ref to another JSON file', async () => {
    const description = await loadApiDescription(`${FIXTURES}/catalog-3.1/openapi.json`);
    expect(routes(description.operations)).toEqual([
      'GET /catalog/products listProducts catalog.browse [] [] /paths/~1products/get',
      'GET /catalog/products/{sku} getProduct catalog.browse [sku] [] /paths/~1products~1{sku}/get',
      'PUT /catalog/products/{sku} putProduct catalog.edit [sku] [] /paths/~1products~1{sku}/put',
    ]);
  });

  it('reports a YAML syntax error with its line and column', async () => {
    expect(await loadErrors(`${FIXTURES}/broken.yaml`)).toEqual([
      `${FIXTURES}/broken.yaml:3:1 [yaml_syntax] Flow map in block collection must be sufficiently indented and end with a }`,
    ]);
  });

  it('reports what the parser finds invalid at its JSON pointer', async () => {
    expect(await loadErrors(`${FIXTURES}/invalid.yaml`)).toEqual([
      `${FIXTURES}/invalid.yaml:8:9 [invalid_api_description] /paths/~1orders/get/responses/200: must have required property 'description'`,
    ]);
  });

  it('reports a problem inside a referenced file in that file, at its pointer there', async () => {
    expect(await loadErrors(`${FIXTURES}/invalid-in-ref/openapi.yaml`)).toEqual([
      `${FIXTURES}/invalid-in-ref/responses.yaml:1:1 [invalid_api_description] /Orders: must have required property 'description'`,
    ]);
  });

  it("reports the parser's checks beyond the schema (a duplicated operationId) at the duplicate", async () => {
    expect(await loadErrors(`${FIXTURES}/duplicate-operation-id.yaml`)).toEqual([
      `${FIXTURES}/duplicate-operation-id.yaml:10:7 [invalid_api_description] /paths/~1orders~1{id}/get/operationId: The operationId \`getOrders\` is duplicated and must be made unique.`,
    ]);
  });

  it('reports a $ref that points to nothing at the $ref', async () => {
    expect(await loadErrors(`${FIXTURES}/missing-ref.yaml`)).toEqual([
      `${FIXTURES}/missing-ref.yaml:8:9 [invalid_api_description] /paths/~1orders/get/responses/200: $ref "#/components/responses/Orders" points to nothing: "components" does not exist`,
    ]);
  });

  it('refuses a remote $ref without fetching it', async () => {
    expect(await loadErrors(`${FIXTURES}/remote-ref.yaml`)).toEqual([
      `${FIXTURES}/remote-ref.yaml:8:9 [invalid_api_description] /paths/~1orders/get/responses/200: $ref "https://schemas.example.test/responses.yaml#/Orders" is not a local file: keycard never fetches a remote reference (copy the document next to this one and refer to it by a relative path)`,
    ]);
  });

  it('sends no request for a remote $ref, even to a server that would answer', async () => {
    const requests: string[] = [];
    const server: Server = createServer((request, response) => {
      requests.push(request.url ?? '');
      response.setHeader('content-type', 'application/yaml');
      response.end('Orders: { description: fetched }\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      workspace = new Workspace();
      const file = workspace.write(
        'api.yaml',
        `openapi: 3.1.0\ninfo: { title: T, version: "1" }\npaths:\n  /orders:\n    get:\n      responses:\n        "200": { $ref: "http://127.0.0.1:${port}/r.yaml#/Orders" }\n`,
      );
      expect(await loadErrors(file)).toEqual([
        `./api.yaml:7:9 [invalid_api_description] /paths/~1orders/get/responses/200: $ref "http://127.0.0.1:${port}/r.yaml#/Orders" is not a local file: keycard never fetches a remote reference (copy the document next to this one and refer to it by a relative path)`,
      ]);
      expect(requests).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a path keycard cannot express (a parameter inside a segment), naming the path', async () => {
    expect(await loadErrors(`${FIXTURES}/param-in-segment.yaml`)).toEqual([
      `${FIXTURES}/param-in-segment.yaml:9:3 [invalid_api_description] /paths/~1files~1{name}.json: the path /files/{name}.json has a parameter inside the segment "{name}.json": keycard binds whole segments only, like /files/{name}`,
    ]);
  });

  it('refuses an x-keycard-permission that is not a permission name', async () => {
    expect(await loadErrors(`${FIXTURES}/bad-permission.yaml`)).toEqual([
      `${FIXTURES}/bad-permission.yaml:7:7 [invalid_api_description] /paths/~1orders/get/x-keycard-permission: x-keycard-permission must be a permission name: letters, digits, ".", ":", "_" and "-"`,
    ]);
  });

  it('reads OpenAPI 3.0 and 3.1 only', async () => {
    expect(await loadErrors(`${FIXTURES}/swagger.yaml`)).toEqual([
      `${FIXTURES}/swagger.yaml:1:1 [invalid_api_description] /swagger: keycard reads OpenAPI 3.0 and 3.1 descriptions, not Swagger 2.0`,
    ]);
    workspace = new Workspace();
    const file = workspace.write('api.yaml', 'openapi: 3.2.0\ninfo: { title: T, version: "1" }\npaths: {}\n');
    expect(await loadErrors(file)).toEqual(['./api.yaml:1:1 [invalid_api_description] /openapi: keycard reads OpenAPI 3.0 and 3.1 descriptions, not "openapi: 3.2.0"']);
  });

  it('refuses a document that is not a mapping', async () => {
    workspace = new Workspace();
    for (const [name, text] of [['empty.yaml', ''], ['scalar.yaml', 'hello\n'], ['list.yaml', '- a\n']] as const) {
      const file = workspace.write(name, text);
      expect(await loadErrors(file)).toEqual([expect.stringMatching(new RegExp(`^\\./${name}(:1:1)? \\[invalid_api_description\\] the document is not an OpenAPI description \\(not a mapping\\)$`))]);
    }
  });

  it('reports a missing document, and a $ref to a missing file at the $ref', async () => {
    expect(await loadErrors(`${FIXTURES}/does-not-exist.yaml`)).toEqual([
      `${FIXTURES}/does-not-exist.yaml [file_unreadable] cannot read ${FIXTURES}/does-not-exist.yaml: no such file (ENOENT)`,
    ]);
    workspace = new Workspace();
    const file = workspace.write('api.yaml', 'openapi: 3.0.3\ninfo: { title: T, version: "1" }\npaths:\n  /a:\n    $ref: "paths/a.yaml"\n');
    const [message] = await loadErrors(file);
    expect(message).toBe('./api.yaml:4:3 [invalid_api_description] /paths/~1a: $ref "paths/a.yaml": cannot read ./paths/a.yaml: no such file (ENOENT)');
  });

  it('refuses a $ref to something that is not a regular file, without reading it', async () => {
    workspace = new Workspace();
    const file = workspace.write('api.yaml', 'openapi: 3.0.3\ninfo: { title: T, version: "1" }\npaths:\n  /a:\n    $ref: "/dev/zero"\n');
    expect(await loadErrors(file)).toEqual(['./api.yaml:4:3 [invalid_api_description] /paths/~1a: $ref "/dev/zero": cannot read /dev/zero: not a regular file']);
  });

  it('refuses a YAML alias bomb in a description instead of expanding it', async () => {
    workspace = new Workspace();
    const bomb = [
      'openapi: 3.0.3',
      'info: { title: T, version: "1" }',
      'x-a: &a ["x","x","x","x","x","x","x","x","x"]',
      'x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'x-e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'paths: {}',
    ].join('\n');
    const file = workspace.write('api.yaml', bomb);
    const errors = await loadErrors(file);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\.\/api\.yaml \[yaml_syntax\] Excessive alias count/);
  });

  it('refuses a document whose $refs expand it past two million values, before validating it', async () => {
    workspace = new Workspace();
    // Seven levels of ten references each: 10^7 values once expanded, from a few hundred bytes.
    const levels = Array.from({ length: 7 }, (_, level) => `x-l${level}: [${Array.from({ length: 10 }, () => `{ $ref: "#/x-l${level + 1}" }`).join(', ')}]`);
    const file = workspace.write('api.yaml', ['openapi: 3.0.3', 'info: { title: T, version: "1" }', 'paths: {}', ...levels, 'x-l7: "x"'].join('\n'));
    const started = Date.now();
    expect(await loadErrors(file)).toEqual(['./api.yaml:1:1 [invalid_api_description] the document expands (through its $refs) to more than 2000000 values']);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses path parameter names keycard templates cannot bind, and literal wildcards', async () => {
    workspace = new Workspace();
    const file = workspace.write(
      'api.yaml',
      [
        'openapi: 3.0.3',
        'info: { title: T, version: "1" }',
        'paths:',
        '  /orders/{order-id}:',
        '    get:',
        '      parameters: [{ name: order-id, in: path, required: true, schema: { type: string } }]',
        '      responses: { "200": { description: ok } }',
        '  /files/*:',
        '    get:',
        '      responses: { "200": { description: ok } }',
      ].join('\n'),
    );
    expect(await loadErrors(file)).toEqual([
      './api.yaml:4:3 [invalid_api_description] /paths/~1orders~1{order-id}: the path parameter {order-id} of /orders/{order-id} has a name keycard templates cannot bind: use letters, digits and "_", not starting with a digit',
      './api.yaml:8:3 [invalid_api_description] /paths/~1files~1*: the path /files/* has a literal "*" segment, which keycard templates read as a wildcard',
    ]);
  });
});

describe('the description cache', () => {
  it('reuses a description while none of its files changed, and reloads it when a referenced file does', async () => {
    workspace = new Workspace();
    const file = workspace.write('api.yaml', 'openapi: 3.0.3\ninfo: { title: T, version: "1" }\npaths:\n  /a:\n    $ref: "paths.yaml#/a"\n');
    workspace.write('paths.yaml', 'a:\n  get:\n    operationId: getA\n    responses: { "200": { description: ok } }\n');
    const cache = new ApiDescriptionCache();
    const first = await cache.load(file);
    expect(await cache.load(file)).toBe(first);

    workspace.write('paths.yaml', 'a:\n  get:\n    operationId: readA\n    responses: { "200": { description: ok } }\n');
    const second = await cache.load(file);
    expect(second).not.toBe(first);
    expect(second.description.operations.map((op) => op.operationId)).toEqual(['readA']);
    expect(second.hash).not.toBe(first.hash);
  });
});
