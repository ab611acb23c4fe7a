import { describe, expect, it } from 'vitest';
import { normalizeHost, normalizePath } from '../../src/pipeline/normalize.js';

function path(target: string): string {
  const result = normalizePath(target);
  if (!result.ok) throw new Error(`rejected: ${result.problem}`);
  return result.path;
}

function problem(target: string): string {
  const result = normalizePath(target);
  if (result.ok) throw new Error(`accepted as ${result.path}`);
  return result.problem;
}

describe('normalizePath', () => {
  it.each([
    ['/', '/'],
    ['/orders', '/orders'],
    ['/orders/', '/orders'],
    ['//orders///42', '/orders/42'],
    ['/orders/./42', '/orders/42'],
    ['/orders/x/../42', '/orders/42'],
    ['/orders/%34%32', '/orders/42'],
    ['/%6Frders', '/orders'],
    ['/orders/%2e%2e/admin', '/admin'],
    ['/a/b/..', '/a'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/a/~user/-._', '/a/~user/-._'],
  ])('%s → %s', (input, expected) => {
    expect(path(input)).toBe(expected);
  });

  it('splits off the query and fragment, which never take part in matching', () => {
    const result = normalizePath('/orders/42?admin=true&x=/../#frag');
    expect(result).toEqual({ ok: true, path: '/orders/42', segments: ['orders', '42'], query: 'admin=true&x=/../' });
    expect(normalizePath('/a#x?y')).toMatchObject({ ok: true, path: '/a', query: '' });
  });

  it('gives segments without empty parts', () => {
    expect(normalizePath('/')).toMatchObject({ segments: [] });
    expect(normalizePath('//a//b/')).toMatchObject({ segments: ['a', 'b'] });
  });

  it.each([
    ['/orders%2F42', 'encoded slash'],
    ['/orders%2f42', 'encoded slash'],
    ['/orders%5c42', 'encoded slash or backslash'],
    ['/orders\\42', 'backslash'],
    ['/..', 'escapes the root'],
    ['/a/../../etc/passwd', 'escapes the root'],
    ['/%2e%2e/x', 'escapes the root'],
    ['/a%00', 'NUL'],
    ['/a%zz', 'malformed percent-encoding'],
    ['/a%4', 'malformed percent-encoding'],
    ['/a\u0000b', 'control character'],
    ['/a\tb', 'control character'],
    ['orders', 'must start with'],
    ['', 'must start with'],
    ['*', 'must start with'],
  ])('rejects %j (%s)', (input, expected) => {
    expect(problem(input)).toContain(expected);
  });
});

describe('normalizeHost', () => {
  it.each([
    ['Orders.Shop.SVC', 'orders.shop.svc'],
    ['orders:8080', 'orders'],
    ['orders.shop.svc.cluster.local.', 'orders.shop.svc.cluster.local'],
    ['orders.shop.svc.:443', 'orders.shop.svc'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['  orders  ', 'orders'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeHost(input)).toBe(expected);
  });
});
