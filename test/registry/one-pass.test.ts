// A single-file description is validated in one pass of the parser, with `$ref`s between component
// schemas (written inside other schemas) left unexpanded: each schema is checked once, where it is
// defined, instead of at every place it is used. These tests hold that nothing the parser finds
// is lost that way, and that the size guard counts what the validator now walks.
import { dereference } from '@readme/openapi-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../src/errors.js';
import { expandedSize, expandedSizeAsWritten, MAX_NODES } from '../../src/registry/expansion.js';
import { loadApiDescription } from '../../src/registry/openapi.js';
import { planRefs } from '../../src/registry/unexpanded-refs.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  workspace = undefined;
});

async function loadErrors(file: string): Promise<string[]> {
  const error = await loadApiDescription(file).then(
    () => new Error(`${file} loaded without error`),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConfigError)) throw error;
  return error.issues.map((issue) => formatConfigIssue(issue).replaceAll(workspace?.dir ?? '\0', '.'));
}

/** A description with one operation whose response body is `schema`, and `schemas` as its components. */
function document(schema: object, schemas: Record<string, unknown>): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: 'T', version: '1' },
    paths: { '/a': { get: { operationId: 'getA', responses: { '200': { description: 'ok', content: { 'application/json': { schema } } } } } } },
    components: { schemas },
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe('validating a single-file description in one pass', () => {
  it('loads a description whose schemas refer to each other ten million times over, checking each schema once', async () => {
    workspace = new Workspace();
    // Seven levels of ten properties, each a $ref to the next level: 10^7 values once expanded.
    const schemas: Record<string, unknown> = { L7: { type: 'string' } };
    for (let level = 0; level < 7; level++) {
      schemas[`L${level}`] = { type: 'object', properties: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, ref(`L${level + 1}`)])) };
    }
    const file = workspace.write('api.json', document(ref('L0'), schemas));
    const started = Date.now();
    const description = await loadApiDescription(file);
    expect(description.operations.map((op) => `${op.method} ${op.path} ${op.operationId}`)).toEqual(['GET /a getA']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still finds a problem in a schema referred to only from inside other schemas, where that schema is written', async () => {
    workspace = new Workspace();
    const text = [
      'openapi: 3.0.3',
      'info: { title: T, version: "1" }',
      'paths:',
      '  /a:',
      '    get:',
      '      responses:',
      '        "200":',
      '          description: ok',
      '          content: { application/json: { schema: { $ref: "#/components/schemas/Outer" } } }',
      'components:',
      '  schemas:',
      '    Outer: { type: object, properties: { inner: { $ref: "#/components/schemas/Bad" } } }',
      '    Bad:',
      '      type: wrong',
    ].join('\n');
    const errors = await loadErrors(workspace.write('api.yaml', text));
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors)).toEqual(
      new Set(['./api.yaml:14:7 [invalid_api_description] /components/schemas/Bad/type: must be equal to one of the allowed values (Did you mean string here?)']),
    );
  });

  it("still applies the parser's check for an array schema without items to a schema referred to at the top level", async () => {
    workspace = new Workspace();
    const file = workspace.write('api.json', document(ref('List'), { List: { type: 'array' } }));
    const errors = await loadErrors(file);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^\.\/api\.json:\d+:\d+ \[invalid_api_description\] \/components\/schemas\/List: `\/paths\/a\/get\/responses\/200\/content\/application\/json\/schema` is an array, so it must include an `items` schema\.$/,
    );
  });

  it('still finds a problem in a component example referred to only from an examples map, where it is written', async () => {
    workspace = new Workspace();
    const root = document({ type: 'string' }, {});
    const media = (root.paths as Record<string, { get: { responses: Record<string, { content: Record<string, Record<string, unknown>> }> } }>)['/a']!.get.responses['200']!.content['application/json']!;
    media.examples = { one: { $ref: '#/components/examples/One' } };
    (root.components as Record<string, unknown>).examples = { One: { value: 'x', valeu: 'typo' } };
    const errors = await loadErrors(workspace.write('api.json', root));
    // The thorough load reports it once per place it is used, each located where it is written.
    expect(new Set(errors)).toEqual(new Set(['./api.json:36:9 [invalid_api_description] /components/examples/One/valeu: must NOT have additional properties']));
  });

  it('still refuses a component schema used where a parameter belongs', async () => {
    workspace = new Workspace();
    const text = {
      openapi: '3.0.3',
      info: { title: 'T', version: '1' },
      paths: { '/a': { get: { parameters: [ref('Thing')], responses: { '200': { description: 'ok' } } } } },
      components: { schemas: { Thing: { type: 'object', properties: { inner: ref('Other') } }, Other: { type: 'string' } } },
    };
    const errors = await loadErrors(workspace.write('api.json', text));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/\[invalid_api_description\] \/components\/schemas\/Thing: must have required property '(name|in|required)'$/);
  });
});

describe('which $refs stay unexpanded', () => {
  it('parks a $ref to a whole component schema written inside a schema, and puts it back', () => {
    const nested = ref('B');
    const root = document({ type: 'string' }, { A: { type: 'object', properties: { b: nested, list: { type: 'array', items: ref('B') } } }, B: { type: 'string' } });
    const plan = planRefs(root)!;
    expect(plan.external).toBe(false);
    expect(plan.unexpanded.size).toBe(2);
    expect(plan.unexpanded.has(nested)).toBe(true);
    plan.park();
    expect(nested.$ref).not.toBe('#/components/schemas/B');
    expect(nested.$ref.startsWith('#/')).toBe(false);
    plan.restore();
    expect(nested.$ref).toBe('#/components/schemas/B');
  });

  it('leaves expanded what the parser reads above the first schema level, and $refs it would treat differently', () => {
    const alias = ref('A'); // component C is itself a $ref: the top of a schema
    const withSibling = { ...ref('B'), description: 'merged in by the parser' };
    const intoPart = { $ref: '#/components/schemas/A/properties/b' };
    const missing = ref('Nope');
    const root = document({ type: 'string' }, { A: { type: 'object', properties: { s: withSibling, p: intoPart, m: missing } }, B: { type: 'string' }, C: alias });
    expect(planRefs(root)!.unexpanded.size).toBe(0);
  });

  it('parks a schema slot naming a component schema, unless the array-items check reads it or it names another $ref', () => {
    const plain = ref('Plain');
    const list = ref('List'); // an array without items: the parser's check must see it
    const aliased = ref('Alias'); // a $ref to a $ref: what the check reads is another schema
    const listed = ref('Listed');
    const root = document(plain, { Plain: { type: 'object' }, List: { type: 'array' }, Alias: ref('Plain'), Listed: { type: 'array', items: { type: 'string' } } });
    const operation = (root.paths as Record<string, { get: Record<string, unknown> }>)['/a']!.get;
    operation.parameters = [{ name: 'q', in: 'query', schema: list }, { name: 'r', in: 'query', schema: aliased }, { name: 's', in: 'query', schema: listed }];
    const plan = planRefs(root)!;
    expect([plain, list, aliased, listed].map((object) => plan.unexpanded.has(object))).toEqual([true, false, false, true]);
  });

  it('parks an examples entry naming a component example, and nothing else written above schemas', () => {
    const example = { $ref: '#/components/examples/One' };
    const wrongKind = { $ref: '#/components/schemas/One' };
    const parameter = { $ref: '#/components/parameters/P' };
    const response = { $ref: '#/components/responses/R' };
    const root = document({ type: 'string' }, { One: { type: 'string' } });
    const components = root.components as Record<string, unknown>;
    components.examples = { One: { value: 'x' } };
    components.parameters = { P: { name: 'p', in: 'query', schema: { type: 'string' } } };
    components.responses = { R: { description: 'r' } };
    const operation = (root.paths as Record<string, { get: Record<string, unknown> }>)['/a']!.get;
    operation.parameters = [parameter, { name: 'q', in: 'query', schema: { type: 'string' }, examples: { a: example, b: wrongKind } }];
    operation.responses = { '200': response };
    const plan = planRefs(root)!;
    expect([example, wrongKind, parameter, response].map((object) => plan.unexpanded.has(object))).toEqual([true, false, false, false]);
  });

  it('parks nothing when a schema sets $id or $schema (a $ref inside would resolve against it)', () => {
    const root = document(ref('A'), { A: { $id: 'https://example.test/a', type: 'object', properties: { b: ref('B') } }, B: { type: 'string' } });
    expect(planRefs(root)!.unexpanded.size).toBe(0);
  });

  it('keeps a $ref shared (by a YAML alias) between the top of a schema and inside one expanded', () => {
    const shared = ref('B');
    const root = document({ type: 'string' }, { A: { type: 'object', properties: { b: shared } }, B: { type: 'string' }, C: shared });
    expect(planRefs(root)!.unexpanded.size).toBe(0);
  });

  it('tells a document that names another file', () => {
    expect(planRefs(document({ $ref: 'schemas.yaml#/A' }, {}))!.external).toBe(true);
  });
});

describe('counting a document as written', () => {
  it('counts what the parser expands, shared schemas once per place', async () => {
    workspace = new Workspace();
    const root = document(ref('A'), {
      A: { type: 'object', properties: { b: ref('B'), c: ref('B'), d: { type: 'array', items: ref('A2') } } },
      A2: { allOf: [ref('B'), { $ref: '#/components/schemas/A/properties/b' }] },
      B: { type: 'string', enum: ['x', 'y'] },
    });
    const file = workspace.write('api.json', root);
    expect(expandedSizeAsWritten(structuredClone(root), MAX_NODES, new Set())).toBe(expandedSize(await dereference(file), MAX_NODES));
  });

  it('counts a parked $ref as written', () => {
    const root = document({ type: 'string' }, { A: { type: 'object', properties: { b: ref('B') } }, B: { type: 'object', properties: { x: { type: 'string' } } } });
    const plan = planRefs(root)!;
    // B's four values in place of `b` when expanded; `{ $ref: ... }` is two values when parked.
    expect(expandedSizeAsWritten(root, MAX_NODES, new Set()) - expandedSizeAsWritten(root, MAX_NODES, plan.unexpanded)).toBe(5 - 2);
  });

  it('stops counting a $ref bomb past the limit, quickly', () => {
    const root: Record<string, unknown> = { openapi: '3.0.3', 'x-l9': 'x' };
    for (let level = 0; level < 9; level++) root[`x-l${level}`] = Array.from({ length: 10 }, () => ({ $ref: `#/x-l${level + 1}` }));
    const started = Date.now();
    expect(expandedSizeAsWritten(root, MAX_NODES, new Set())).toBeGreaterThan(MAX_NODES);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
