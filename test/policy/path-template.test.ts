import { describe, expect, it } from 'vitest';
import { isPathTemplate, matchPathTemplate, parsePathTemplate, type PathTemplate } from '../../src/policy/path-template.js';

function template(source: string): PathTemplate {
  const parsed = parsePathTemplate(source);
  if (!isPathTemplate(parsed)) throw new Error(parsed.problem);
  return parsed;
}

function match(source: string, path: string) {
  return matchPathTemplate(template(source), path.split('/').filter(Boolean));
}

describe('path templates', () => {
  it('matches exact paths only', () => {
    expect(match('/orders', '/orders')).toEqual({});
    expect(match('/orders', '/orders/1')).toBeUndefined();
    expect(match('/orders', '/order')).toBeUndefined();
    expect(match('/', '/')).toEqual({});
    expect(match('/', '/x')).toBeUndefined();
  });

  it('binds {params} to one segment', () => {
    expect(match('/orders/{id}', '/orders/42')).toEqual({ id: '42' });
    expect(match('/orders/{id}/items/{item}', '/orders/42/items/7')).toEqual({ id: '42', item: '7' });
    expect(match('/orders/{id}', '/orders')).toBeUndefined();
    expect(match('/orders/{id}', '/orders/42/refund')).toBeUndefined();
  });

  it('matches one segment with *', () => {
    expect(match('/orders/*/items', '/orders/42/items')).toEqual({});
    expect(match('/orders/*/items', '/orders/items')).toBeUndefined();
  });

  it('matches the prefix and everything below it with a final /**', () => {
    expect(match('/orders/**', '/orders')).toEqual({});
    expect(match('/orders/**', '/orders/42/items/7')).toEqual({});
    expect(match('/orders/**', '/ordersx')).toBeUndefined();
    expect(match('/orders/{id}/**', '/orders/42/a/b')).toEqual({ id: '42' });
    expect(match('/**', '/')).toEqual({});
    expect(match('/**', '/anything/at/all')).toEqual({});
  });

  it('is case-sensitive', () => {
    expect(match('/Orders', '/orders')).toBeUndefined();
  });

  it.each([
    ['orders', 'must start with "/"'],
    ['/orders/', 'trailing slash'],
    ['/orders//42', 'empty segment'],
    ['/orders/../admin', 'dot segment'],
    ['/orders/**/items', 'only allowed as the last segment'],
    ['/orders/{id}/{id}', 'binds {id} twice'],
    ['/orders/id-{id}', 'whole segment'],
    ['/orders/{}', 'whole segment'],
    ['/orders/a b', 'characters a path cannot contain'],
    ['/orders/a?b', 'characters a path cannot contain'],
    ['/a%2Fb', 'encoded slashes'],
  ])('rejects %j', (source, problem) => {
    const parsed = parsePathTemplate(source);
    expect(isPathTemplate(parsed)).toBe(false);
    expect((parsed as { problem: string }).problem).toContain(problem);
  });
});
