// Properties of the policy loader: whatever YAML text lands in the policy directory, loading it
// either succeeds or throws a ConfigError whose every issue has a catalogued code, the file and a
// message. Any other exception would escape PolicySource.reload() and end the process.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CONFIG_ERRORS, ConfigError } from '../../src/errors.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { compileYaml } from '../helpers/policy.js';
import { Workspace } from '../helpers/workspace.js';

const RUNS = { numRuns: 300 } as const;

/** Loads `text` as policy.yaml: true when it compiled, false for a well-formed ConfigError; anything else fails. */
function loads(text: string): boolean {
  try {
    compileYaml(text, ['test-idp'], 'policy.yaml', { credentials: { introspectionEndpoints: new Set(['legacy']), apiKeys: true } });
    return true;
  } catch (error) {
    expectConfigError(error, ['policy.yaml']);
    return false;
  }
}

function expectConfigError(error: unknown, files: readonly string[]): void {
  if (!(error instanceof ConfigError)) throw new Error(`not a ConfigError: ${(error as Error)?.stack ?? String(error)}`);
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(Object.keys(CONFIG_ERRORS)).toContain(issue.code);
    expect(files).toContain(issue.file);
    expect(issue.message).toMatch(/\S/);
    if (issue.line !== undefined) expect(issue.line).toBeGreaterThanOrEqual(1);
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A policy using every part of the schema; mutations of it reach deep into the loader. */
const VALID: Json = {
  service: 'orders',
  description: 'fuzz base',
  hosts: ['orders', 'Orders.Shop.svc.'],
  mode: 'enforce',
  authentication: {
    credentials: [{ jwt: { issuers: ['test-idp'], types: ['at+jwt'] } }, { apiKey: { header: 'x-api-key' } }, 'session', { introspection: { endpoints: ['legacy'] } }, { mtls: {} }],
    onMultiple: 'reject',
  },
  rules: [
    { id: 'health', effect: 'allow', match: { methods: ['GET'], paths: ['/healthz'] }, anonymous: true },
    {
      id: 'read',
      effect: 'allow',
      match: { methods: ['GET', 'HEAD'], paths: ['/orders/{id}', '/orders/*/items', '/orders/**'] },
      when: [
        { role: ['customer', 'support'] },
        { scope: 'orders:read' },
        { claim: { name: 'org.id', equals: 'acme' } },
        { header: { name: 'x-tenant', oneOf: ['a', 'b'] } },
        { sourceCidr: ['10.0.0.0/8', 'fd00::/8'] },
        { not: { role: 'intern' } },
        { anyOf: [{ mfa: true }, { acr: 'urn:acr:high' }] },
        { maxAuthAge: '10m' },
        { timeWindow: { days: ['mon', 'fri'], hours: '09:00-18:00', timeZone: 'UTC' } },
      ],
      permission: 'orders.read',
    },
    { id: 'legacy', effect: 'deny', match: { paths: ['/v1/**'] }, dryRun: true },
  ],
  store: { onError: 'serve-stale', maxStale: '1m' },
  forward: { identityHeaders: true, permissionsHeader: true },
};

/** Every path into a JSON value (object keys and array indexes), the root included. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => out.push(...paths(item, [...prefix, index])));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...prefix, key]));
  return out;
}

type Mutation = { at: number; op: 'delete' | 'replace' | 'retype' | 'duplicate' | 'rename' | 'stringify'; value: Json };

/** Applies one mutation at the `at`-th path of `root` (in place; the root itself is replaced only by `replace`). */
function mutate(root: Json, { at, op, value }: Mutation): Json {
  const all = paths(root);
  const path = all[at % all.length]!;
  if (path.length === 0) return op === 'replace' ? value : root;
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1]!;
  let parent = root as Record<string | number, Json>;
  for (const part of parentPath) parent = parent[part] as unknown as Record<string | number, Json>;
  const current = parent[key]!;
  switch (op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'replace':
      parent[key] = value;
      break;
    case 'retype':
      parent[key] = Array.isArray(current) ? (current[0] ?? null) : typeof current === 'object' && current !== null ? [current] : typeof current === 'string' ? Number(current) || [current] : String(current);
      break;
    case 'duplicate':
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(current));
      else parent[`${String(key)}x`] = structuredClone(current);
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        delete parent[key];
        parent[`${String(key).slice(1)}`] = current;
      }
      break;
    case 'stringify':
      parent[key] = JSON.stringify(current);
      break;
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'retype', 'duplicate', 'rename', 'stringify'),
  value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
});

/** YAML fragments, including the constructs that have crashed YAML loaders: aliases, tags, merges, anchors, documents. */
const YAML_PIECES = [
  'service: s\n', 'rules:\n', '  - ', '    ', '{', '}', '[', ']', ': ', ', ', '- ', '\n', '  ', '"', "'", '#c\n', '|\n', '>-\n', '\t',
  '&a ', '*a', '&b [*a, *a, *a]\n', '*b', '<<: *a\n', '!!str ', '!!binary aGk=\n', '!!set ', '!!map ', '!!seq ', '!!js/function ', '!foo ', '? ', '---\n', '...\n', '%YAML 1.2\n',
  'id: r', 'effect: allow', 'effect: deny', 'anonymous: true', 'when: [{role: a}]', 'when: [{not: {anyOf: [{scope: x}]}}]', 'match: {paths: ["/a/{id}", "/**"]}',
  'paths: ["/a/%zz"]', 'paths: ["/{x}/{x}"]', 'methods: [get, FETCH]', 'authentication: {credentials: [jwt, apiKey]}', 'timeWindow: {hours: "25:00-01:00"}',
  'maxAuthAge: -1s', 'sourceCidr: [300.1.1.1/40]', 'relation: "order:{id}#viewer"', 'null', '~', '1e400', '0x1F', '-.inf', '2001-01-01', '"\\u0000"', '\u0000', '\ufeff', '\ud800',
] as const;

describe('policy loader', () => {
  it('the fuzz base policy loads (baseline)', () => {
    expect(loads(stringify(VALID))).toBe(true);
  });

  it('any JSON value as a document loads or is a located ConfigError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        loads(stringify(value));
      }),
      RUNS,
    );
  });

  it('any object (undefined, NaN, -0 and odd keys included) loads or is a ConfigError', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 3, withNullPrototype: true }), (value) => {
        loads(stringify(value));
      }),
      RUNS,
    );
  });

  it('mutations of a valid policy load or are ConfigErrors', () => {
    let loaded = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const root = mutations.reduce<Json>((value, change) => mutate(value, change), structuredClone(VALID));
        if (loads(stringify(root))) loaded++;
      }),
      { numRuns: 500 },
    );
    // Some mutations keep the policy valid (a dropped description, a duplicated role): both paths ran.
    expect(loaded).toBeGreaterThan(0);
  });

  it('YAML-ish text (aliases, tags, merges, anchors, several documents) loads or is a ConfigError', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 40 }), (pieces) => {
        loads(pieces.join(''));
      }),
      RUNS,
    );
  });

  it('random text loads or is a ConfigError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        loads(text);
      }),
      RUNS,
    );
  });

  it.each([
    ['an alias bomb', 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nservice: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
    ['20,000 nested brackets', `service: s\nrules: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`],
    ['2,000 nested maps', `service: s\nrules: ${'{a: '.repeat(2_000)}1${'}'.repeat(2_000)}\n`],
    ['500 nested not conditions', `service: s\nrules:\n  - {id: r, effect: allow, when: [${'{not: '.repeat(500)}{role: a}${'}'.repeat(500)}]}\n`],
    ['a complex mapping key', '? [a, b]\n: c\nservice: s\n'],
    ['a byte-order mark and NUL', '\ufeffservice: s\u0000\n'],
  ])('%s is a ConfigError or loads, never a crash', (_name, text) => {
    expect(typeof loads(text)).toBe('boolean');
  });
});

describe('policy directory loader', () => {
  const workspace = new Workspace();
  afterAll(() => workspace.remove());

  it('two fuzzed files in one directory load, or every issue names one of them', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 2 }), fc.array(mutation, { maxLength: 2 }), (first, second) => {
        const dir = `dir-${run++}`;
        const one = first.reduce<Json>((value, change) => mutate(value, change), structuredClone(VALID));
        const two = second.reduce<Json>((value, change) => mutate(value, change), structuredClone(VALID));
        workspace.write(`${dir}/one.yaml`, stringify(one));
        workspace.write(`${dir}/two.yaml`, stringify(two));
        try {
          loadPolicies(workspace.path(dir), { issuers: new Set(['test-idp']), credentials: { introspectionEndpoints: new Set(['legacy']), apiKeys: true } });
        } catch (error) {
          // Relative to the working directory when inside it, else absolute (load-policies.ts).
          const files = ['one.yaml', 'two.yaml'].flatMap((name) => [workspace.path(`${dir}/${name}`), `${dir}/${name}`]);
          expectConfigError(error, files.concat(files.map((file) => file.replace(`${process.cwd()}/`, ''))));
        }
      }),
      { numRuns: 60 },
    );
  });
});
