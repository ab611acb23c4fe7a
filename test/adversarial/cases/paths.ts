// Paths and hosts: every spelling that could make keycard authorize one resource while the
// service serves another. The `shop` policy denies /admin/** to everyone, lets `support` (sam)
// do anything else, lets customers (alice) read /orders/{id}, and anyone read /public/**.
import { allow, deny, type AdversarialCase } from '../case.js';
import { checkRequest, type Ctx, type RequestSpec } from '../harness.js';

type Caller = 'sam' | 'alice' | 'anonymous';

function as(caller: Caller, spec: RequestSpec) {
  return (c: Ctx) => checkRequest({ ...spec, headers: { ...spec.headers, ...(caller !== 'anonymous' && { authorization: c.bearer({ claims: { sub: caller } }) }) } });
}

const sam = (path: string, extra: Partial<RequestSpec> = {}) => as('sam', { path, ...extra });
const alice = (path: string, extra: Partial<RequestSpec> = {}) => as('alice', { path, ...extra });
const anonymous = (path: string, extra: Partial<RequestSpec> = {}) => as('anonymous', { path, ...extra });

const EXPLICIT_DENY = deny(403, 'explicit_deny');
const INVALID_PATH = deny(400, 'invalid_path');

/** Spellings of /admin/users that must still meet the deny rule (or be rejected outright). */
const ADMIN_SPELLINGS: readonly (readonly [string, string, 'deny' | 'invalid'])[] = [
  ['the plain path (baseline)', '/admin/users', 'deny'],
  ['the prefix itself', '/admin', 'deny'],
  ['a trailing slash', '/admin/', 'deny'],
  ['doubled slashes', '//admin//users', 'deny'],
  ['a dot segment', '/admin/./users', 'deny'],
  ['a detour through ..', '/public/../admin/users', 'deny'],
  ['a detour through encoded dots', '/public/%2e%2e/admin/users', 'deny'],
  ['a detour through upper-case encoded dots', '/public/%2E%2E/admin/users', 'deny'],
  ['a half-encoded dot-dot', '/public/.%2e/admin/users', 'deny'],
  ['an encoded letter', '/%61dmin/users', 'deny'],
  ['encoded letters in lower-case hex', '/adm%69%6e/users', 'deny'],
  ['every letter encoded', '/%61%64%6D%69%6E/%75%73%65%72%73', 'deny'],
  ['a query that looks like a path', '/admin/users?/../../public', 'deny'],
  ['a fragment', '/admin/users#/../public', 'deny'],
  ['an encoded ? that is part of a segment', '/public%3F/../admin/users', 'deny'],
  ['an encoded # that is part of a segment', '/public/x%23/../../admin/users', 'deny'],
  ['an encoded slash', '/admin%2Fusers', 'invalid'],
  ['an encoded slash in lower case', '/public/..%2fadmin/users', 'invalid'],
  ['an encoded backslash', '/public/..%5Cadmin/users', 'invalid'],
  ['a backslash', '/public\\..\\admin\\users', 'invalid'],
  ['a backslash dot-dot', '/public/..\\admin/users', 'invalid'],
  ['a matrix parameter on the denied segment', '/admin;jsessionid=1/users', 'invalid'],
  ['an empty matrix parameter', '/admin;/users', 'invalid'],
  ['a matrix parameter on a dot-dot', '/public/..;/admin/users', 'invalid'],
  ['an encoded NUL', '/admin/users%00.json', 'invalid'],
  ['a raw NUL', '/admin/users\u0000', 'invalid'],
  ['a raw tab', '/admin/\tusers', 'invalid'],
  ['a CR LF', '/admin/users\r\nx: y', 'invalid'],
  ['a DEL', '/admin/users\u007f', 'invalid'],
  ['a malformed escape', '/admin/%zzusers', 'invalid'],
  ['a truncated escape', '/admin/users%2', 'invalid'],
  ['an escape that climbs above the root', '/%2e%2e/admin/users', 'invalid'],
  ['climbing above the root', '/../admin/users', 'invalid'],
  ['absolute-form', 'http://shop.example.test/admin/users', 'invalid'],
  ['absolute-form over https with another host', 'https://elsewhere.test/public/x', 'invalid'],
  ['asterisk-form', '*', 'invalid'],
  ['an empty path', '', 'invalid'],
  ['a relative path', 'admin/users', 'invalid'],
];

export const pathCases: AdversarialCase[] = [
  ...ADMIN_SPELLINGS.map(([what, path, outcome]): AdversarialCase => ({
    name: `support on /admin via ${what}: ${JSON.stringify(path)}`,
    request: sam(path),
    expect: outcome === 'deny' ? EXPLICIT_DENY : INVALID_PATH,
  })),
  {
    name: 'double encoding is decoded once, like the service does: %252e%252e is a literal segment under /public',
    request: anonymous('/public/%252e%252e/admin/users'),
    expect: allow(),
  },
  { name: 'a double-encoded letter stays encoded: /%2561dmin is not /admin', request: anonymous('/%2561dmin/users'), expect: deny(401, 'authentication_required') },
  { name: 'overlong UTF-8 dots stay literal', request: anonymous('/public/%C0%AE%C0%AE/admin'), expect: allow() },
  {
    name: 'paths are case-sensitive (RFC 3986): /ADMIN is not /admin (see README Security: case-insensitive services need allow lists)',
    request: sam('/ADMIN/users'),
    expect: allow('sam'),
  },
  { name: 'case variant of an anonymous prefix is not anonymous', request: anonymous('/PUBLIC/x'), expect: deny(401, 'authentication_required') },
  { name: 'case variant of a role rule does not match', request: alice('/Orders/42'), expect: deny(403, 'no_matching_rule') },
  { name: 'a matrix parameter on a path parameter', request: alice('/orders/42;x=1'), expect: INVALID_PATH },
  { name: 'an encoded ; is a literal character of the segment', request: alice('/orders/42%3Bx=1'), expect: allow('alice') },
  { name: 'a path parameter cannot span segments', request: alice('/orders/42/..%2F43'), expect: INVALID_PATH },
  { name: 'a path parameter with dot segments resolves first', request: alice('/orders/41/../42'), expect: allow('alice') },
  { name: 'a path parameter of only dots climbs instead', request: alice('/orders/..'), expect: deny(403, 'no_matching_rule') },
  { name: 'the anonymous prefix with a detour into /orders', request: anonymous('/public/../orders/42'), expect: deny(401, 'authentication_required') },
  { name: 'lower-case method is the same method', request: anonymous('/public/x', { method: 'get' }), expect: allow() },
  { name: 'a method with a space', request: anonymous('/public/x', { method: 'GET /admin' }), expect: deny(400, 'invalid_request') },
  { name: 'an empty method', request: anonymous('/public/x', { method: '' }), expect: deny(400, 'invalid_request') },
  { name: 'a method the anonymous rule does not list', request: anonymous('/public/x', { method: 'DELETE' }), expect: deny(401, 'authentication_required') },
  { name: 'an invented method', request: sam('/admin/users', { method: 'PROPFIND' }), expect: EXPLICIT_DENY },
  {
    name: 'x-forwarded-for from an untrusted peer is not the client address',
    request: anonymous('/internal/metrics', { headers: { 'x-forwarded-for': '10.1.2.3' } }),
    expect: deny(401, 'authentication_required'),
  },
  { name: 'the internal rule for a peer inside 10/8 (baseline)', request: anonymous('/internal/metrics', { sourceAddress: '10.1.2.3' }), expect: allow() },
];

/** Routing by :authority (no service name from Envoy). */
const byHost = (host: string, caller: Caller = 'anonymous') => as(caller, { path: '/public/x', host, service: null });

export const hostCases: AdversarialCase[] = [
  { name: 'host exactly as configured (baseline)', request: byHost('shop.example.test'), expect: allow() },
  { name: 'host in upper case', request: byHost('SHOP.Example.TEST'), expect: allow() },
  { name: 'host with a port', request: byHost('shop.example.test:8443'), expect: allow() },
  { name: 'host with a trailing dot', request: byHost('shop.example.test.'), expect: allow() },
  { name: 'host with a trailing dot and a port', request: byHost('shop.example.test.:443'), expect: allow() },
  { name: 'host with surrounding spaces', request: byHost('  shop.example.test  '), expect: allow() },
  { name: 'host with two trailing dots', request: byHost('shop.example.test..'), expect: deny(403, 'unknown_service') },
  { name: 'host with userinfo', request: byHost('attacker@shop.example.test'), expect: deny(403, 'unknown_service') },
  { name: 'host as a suffix of another name', request: byHost('shop.example.test.attacker.test'), expect: deny(403, 'unknown_service') },
  { name: 'host with a prefix', request: byHost('evilshop.example.test'), expect: deny(403, 'unknown_service') },
  { name: 'host with two ports', request: byHost('shop.example.test:80:80'), expect: deny(403, 'unknown_service') },
  { name: 'host with a NUL', request: byHost('shop.example.test\u0000.attacker.test'), expect: deny(403, 'unknown_service') },
  { name: 'an empty host', request: byHost(''), expect: deny(403, 'unknown_service') },
  { name: 'an IPv6 literal', request: byHost('[::1]:8080'), expect: deny(403, 'unknown_service') },
  { name: 'a service name in another case', request: as('anonymous', { path: '/public/x', service: 'SHOP' }), expect: deny(403, 'unknown_service') },
  { name: 'an unknown service name', request: as('anonymous', { path: '/public/x', service: 'shop ' }), expect: deny(403, 'unknown_service') },
  { name: 'the service name wins over a spoofed host', request: as('anonymous', { path: '/public/x', host: 'elsewhere.test' }), expect: allow() },
];
