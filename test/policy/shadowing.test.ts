import { describe, expect, it } from 'vitest';
import { parseYaml, validate } from '../../src/config/yaml-file.js';
import { isPathTemplate, matchPathTemplate, parsePathTemplate, type PathTemplate } from '../../src/policy/path-template.js';
import { policySchema } from '../../src/policy/schema.js';
import {
  conditionKey,
  conditionsCover,
  findShadowedRules,
  methodsCover,
  pathsCover,
  templateCovers,
  templatesCover,
  type ShadowRule,
} from '../../src/policy/shadowing.js';
import { compileYaml } from '../helpers/policy.js';

function t(source: string): PathTemplate {
  const parsed = parsePathTemplate(source);
  if (!isPathTemplate(parsed)) throw new Error(parsed.problem);
  return parsed;
}

const covers = (outer: string, inner: string) => templateCovers(t(outer), t(inner));

describe('templateCovers', () => {
  it.each([
    ['/orders', '/orders'],
    ['/orders/{id}', '/orders/42'],
    ['/orders/{id}', '/orders/*'],
    ['/orders/*', '/orders/{id}'],
    ['/{a}/{b}', '/orders/{id}'],
    ['/orders/**', '/orders'],
    ['/orders/**', '/orders/{id}/items/**'],
    ['/orders/**', '/orders/**'],
    ['/**', '/'],
    ['/**', '/anything/**'],
    ['/*/**', '/orders/{id}'],
    ['/{x}/**', '/a/**'],
    ['/', '/'],
  ])('%s covers %s', (outer, inner) => {
    expect(covers(outer, inner)).toBe(true);
  });

  it.each([
    ['/orders', '/orders/{id}'],
    ['/orders/42', '/orders/{id}'],
    ['/orders/{id}', '/orders'],
    ['/orders/{id}', '/orders/{id}/refund'],
    ['/orders/{id}', '/orders/**'],
    ['/orders/*/**', '/orders/**'],
    ['/orders/**', '/order/**'],
    ['/orders/**', '/**'],
    ['/Orders/**', '/orders'],
    ['/*/**', '/'],
    ['/', '/**'],
    ['/a/b', '/a/{x}'],
  ])('%s does not cover %s', (outer, inner) => {
    expect(covers(outer, inner)).toBe(false);
  });

  it('agrees with the matcher on every path of a small universe, for one template and for unions of two', () => {
    const templates = ['/', '/**', '/a', '/b', '/a/**', '/a/b', '/a/{x}', '/*/b', '/*/**', '/a/*/**', '/{x}/{y}/c', '/a/b/**'].map(t);
    // Every path of up to four segments over an alphabet that includes a name no template uses.
    const paths: string[][] = [[]];
    for (let length = 1; length <= 4; length++) {
      for (const shorter of paths.filter((path) => path.length === length - 1)) for (const name of ['a', 'b', 'c', 'z']) paths.push([...shorter, name]);
    }
    for (const outer of templates) {
      for (const inner of templates) {
        const brute = paths.every((path) => matchPathTemplate(inner, path) === undefined || matchPathTemplate(outer, path) !== undefined);
        expect(templateCovers(outer, inner), `${outer.source} ⊇ ${inner.source}`).toBe(brute);
      }
    }
    // And every union of two templates.
    for (const first of templates) {
      for (const second of templates) {
        for (const inner of templates) {
          const matchedByEither = (path: string[]) => matchPathTemplate(first, path) !== undefined || matchPathTemplate(second, path) !== undefined;
          const brute = paths.every((path) => matchPathTemplate(inner, path) === undefined || matchedByEither(path));
          expect(templatesCover([first, second], inner), `${first.source} ∪ ${second.source} ⊇ ${inner.source}`).toBe(brute);
        }
      }
    }
  });
});

describe('templatesCover (a union of templates)', () => {
  it('covers with several templates what none covers alone', () => {
    expect(templatesCover([t('/a'), t('/a/*/**')], t('/a/**'))).toBe(true);
    expect(templatesCover([t('/a/b'), t('/a/{x}')], t('/a/*'))).toBe(true);
    expect(templatesCover([t('/a/b'), t('/a/c')], t('/a/*'))).toBe(false);
    expect(templatesCover([t('/a/b/**'), t('/a/{x}')], t('/a/*'))).toBe(true);
    expect(templatesCover([t('/a'), t('/a/b/**')], t('/a/**'))).toBe(false);
  });

  it('answers false rather than searching without end', () => {
    const outer = Array.from({ length: 12 }, (_, index) => t(`/l${index}/l${index}/l${index}/l${index}`));
    expect(templatesCover(outer, t('/*/*/*/*'), 50)).toBe(false);
  });
});

describe('methodsCover and pathsCover', () => {
  it('treats a missing methods list as every method', () => {
    expect(methodsCover(undefined, new Set(['GET']))).toBe(true);
    expect(methodsCover(undefined, undefined)).toBe(true);
    expect(methodsCover(new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']), undefined)).toBe(false);
    expect(methodsCover(new Set(['GET', 'HEAD']), new Set(['HEAD']))).toBe(true);
    expect(methodsCover(new Set(['GET']), new Set(['GET', 'POST']))).toBe(false);
  });

  it('treats a missing paths list as every path', () => {
    expect(pathsCover(undefined, [t('/a/**')])).toBe(true);
    expect(pathsCover([t('/**')], undefined)).toBe(true);
    expect(pathsCover([t('/a/**')], undefined)).toBe(false);
    expect(pathsCover([t('/a'), t('/b')], [t('/b'), t('/a')])).toBe(true);
  });
});

describe('conditionsCover', () => {
  const keys = (...specs: object[]) => specs.map((spec) => conditionKey(spec));

  it('treats lists that are sets the same in any order', () => {
    expect(conditionKey({ role: ['b', 'a', 'a'] }).key).toBe(conditionKey({ role: ['a', 'b'] }).key);
    expect(conditionKey({ claim: { name: 'org', oneOf: ['y', 'x'] } }).key).toBe(conditionKey({ claim: { oneOf: ['x', 'y'], name: 'org' } }).key);
    expect(conditionKey({ anyOf: [{ role: ['a'] }, { scope: ['s'] }] }).key).toBe(conditionKey({ anyOf: [{ scope: ['s'] }, { role: ['a'] }] }).key);
    expect(conditionKey({ header: { name: 'x', equals: '1' } }).key).not.toBe(conditionKey({ header: { name: 'x', equals: 1 } }).key);
  });

  it('holds for no conditions, the same conditions, a wider role list and fewer scopes', () => {
    expect(conditionsCover([], keys({ role: ['a'] }))).toBe(true);
    expect(conditionsCover(keys({ mfa: true }), keys({ role: ['a'] }, { mfa: true }))).toBe(true);
    expect(conditionsCover(keys({ role: ['a', 'b'] }), keys({ role: ['b'] }))).toBe(true);
    expect(conditionsCover(keys({ scope: ['r'] }), keys({ scope: ['r', 'w'] }))).toBe(true);
  });

  it('fails for a condition the later rule lacks, a narrower role list or more scopes', () => {
    expect(conditionsCover(keys({ role: ['a'] }), [])).toBe(false);
    expect(conditionsCover(keys({ role: ['a'] }), keys({ role: ['a', 'b'] }))).toBe(false);
    expect(conditionsCover(keys({ scope: ['r', 'w'] }), keys({ scope: ['r'] }))).toBe(false);
    expect(conditionsCover(keys({ mfa: true }), keys({ mfa: false }))).toBe(false);
  });

  it('marks conditions that read a path parameter', () => {
    expect(conditionKey({ relation: 'order:{id}#owner' }).usesPathParams).toBe(true);
    expect(conditionKey({ not: { relation: 'order:{id}#owner' } }).usesPathParams).toBe(true);
    expect(conditionKey({ relation: 'org:acme#member' }).usesPathParams).toBe(false);
  });
});

/** The rules of a policy as the shadow check sees them: compiled, with their `when:` specs. */
function rulesOf(yaml: string): ShadowRule[] {
  const { source, value } = parseYaml('p.yaml', yaml);
  const spec = validate(source, policySchema, value);
  const relationSchema = { hasRelation: () => true, subjectType: 'user' };
  return compileYaml(yaml, ['test-idp'], 'p.yaml', { relationSchema }).rules.map((rule) => ({ ...rule, conditions: spec.rules[rule.index]!.when.map(conditionKey) }));
}

const shadowed = (yaml: string, permissionsHeader = false) =>
  findShadowedRules(rulesOf(yaml), { permissionsHeader }).map(({ rule, by }) => `${rule.id} by ${by.id}`);

describe('findShadowedRules', () => {
  it('finds an allow rule that an earlier, wider allow rule always decides', () => {
    expect(
      shadowed(`
service: s
rules:
  - { id: wide, effect: allow, match: { methods: [GET, HEAD], paths: ["/orders/**"] }, when: [{ role: [customer, support] }] }
  - { id: narrow, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }, { mfa: true }] }
  - { id: other, effect: allow, match: { methods: [POST], paths: ["/orders/{id}"] }, when: [{ role: customer }] }
  - { id: all, effect: allow, when: [{ role: admin }] }
  - { id: admins-again, effect: allow, match: { paths: ["/x"] }, when: [{ role: admin }] }
`),
    ).toEqual(['narrow by wide', 'admins-again by all']);
  });

  it('does not report a rule the earlier one only partly covers', () => {
    expect(
      shadowed(`
service: s
rules:
  - { id: a, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: customer }] }
  - { id: more-methods, effect: allow, match: { methods: [GET, POST], paths: ["/orders/{id}"] }, when: [{ role: customer }] }
  - { id: more-paths, effect: allow, match: { methods: [GET], paths: ["/orders/{id}", /orders] }, when: [{ role: customer }] }
  - { id: other-role, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] }, when: [{ role: support }] }
  - { id: fewer-conditions, effect: allow, match: { methods: [GET], paths: ["/orders/{id}"] } }
`),
    ).toEqual([]);
  });

  it('needs the earlier rule to be at least as open to anonymous callers', () => {
    const yaml = (firstAnonymous: boolean) => `
service: s
rules:
  - { id: first, effect: allow, match: { methods: [GET], paths: ["/public/**"] }, anonymous: ${firstAnonymous} }
  - { id: second, effect: allow, match: { methods: [GET], paths: [/public/a] }, anonymous: true }
  - { id: third, effect: allow, match: { methods: [GET], paths: [/public/b] } }
`;
    expect(shadowed(yaml(false))).toEqual(['third by first']);
    expect(shadowed(yaml(true))).toEqual(['second by first', 'third by first']);
  });

  it('ignores deny rules, earlier rules with path-parameter conditions, and rules that grant their own permission', () => {
    const yaml = `
service: s
rules:
  - { id: deny-all, effect: deny, match: { paths: ["/**"] }, dryRun: true }
  - { id: allow-after-deny, effect: allow, match: { paths: ["/**"] } }
  - { id: later, effect: allow, match: { paths: ["/x"] } }
`;
    expect(shadowed(yaml)).toEqual(['later by allow-after-deny']);
    expect(shadowed(yaml, true)).toEqual([]);
    const params = `
service: s
rules:
  - { id: own, effect: allow, match: { paths: ["/docs/{id}/**"] }, when: [{ not: { relation: "doc:{id}#banned" } }] }
  - { id: own-too, effect: allow, match: { paths: ["/docs/*/{id}"] }, when: [{ not: { relation: "doc:{id}#banned" } }] }
`;
    expect(shadowed(params)).toEqual([]);
  });
});
