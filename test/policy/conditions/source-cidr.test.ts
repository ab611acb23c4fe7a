// `sourceCidr:` conditions: the client address (see pipeline/client-address.ts) lies in one of
// the ranges. IPv4, IPv6, and IPv4 peers seen as ::ffff:a.b.c.d on dual-stack sockets.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, compileYaml, holdsWhen, loadErrors, requestWith } from '../../helpers/policy.js';

const request = (clientAddress: string | undefined) => requestWith({}, clientAddress);
const apply = (when: string, clientAddress: string | undefined) => applyWhen(when, { request: request(clientAddress) });
const holds = (when: string, clientAddress: string | undefined) => holdsWhen(when, { request: request(clientAddress) });

describe('sourceCidr condition', () => {
  it('IPv4: holds inside the range, including both ends, and not outside it', async () => {
    const when = '{ sourceCidr: 10.0.0.0/8 }';
    for (const address of ['10.0.0.0', '10.1.2.3', '10.255.255.255']) expect(await holds(when, address), address).toBe(true);
    for (const address of ['9.255.255.255', '11.0.0.0', '110.0.0.1']) expect(await holds(when, address), address).toBe(false);
  });

  it('IPv4: any of several ranges; a bare address is a /32', async () => {
    const when = '{ sourceCidr: [192.168.1.0/24, 203.0.113.7] }';
    expect(await holds(when, '192.168.1.200')).toBe(true);
    expect(await holds(when, '203.0.113.7')).toBe(true);
    expect(await holds(when, '203.0.113.8')).toBe(false);
    expect(await holds(when, '192.168.2.1')).toBe(false);
  });

  it('IPv4: /0 holds for every IPv4 address but no IPv6 one', async () => {
    expect(await holds('{ sourceCidr: 0.0.0.0/0 }', '198.51.100.9')).toBe(true);
    expect(await holds('{ sourceCidr: 0.0.0.0/0 }', '2001:db8::1')).toBe(false);
  });

  it('IPv6: holds inside the prefix, in any spelling of the address', async () => {
    const when = '{ sourceCidr: "2001:db8::/32" }';
    for (const address of ['2001:db8::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:DB8:0:0:0:0:0:1']) expect(await holds(when, address), address).toBe(true);
    for (const address of ['2001:db9::1', '2001:db7:ffff::1', '::1']) expect(await holds(when, address), address).toBe(false);
    expect(await holds('{ sourceCidr: "fd00::/8" }', 'fdab:1::2')).toBe(true);
    expect(await holds('{ sourceCidr: "::1" }', '::1')).toBe(true);
  });

  it('matches an IPv4-mapped IPv6 client address against IPv4 ranges', async () => {
    const when = '{ sourceCidr: 10.0.0.0/8 }';
    expect(await holds(when, '::ffff:10.1.2.3')).toBe(true);
    expect(await holds(when, '::FFFF:10.1.2.3')).toBe(true);
    expect(await holds(when, '::ffff:11.1.2.3')).toBe(false);
  });

  it('does not match an IPv4 client against IPv6-only ranges', async () => {
    expect(await holds('{ sourceCidr: "2001:db8::/32" }', '10.1.2.3')).toBe(false);
  });

  it('fails closed for a missing or unparsable client address, and explains it', async () => {
    expect(await apply('{ sourceCidr: 10.0.0.0/8 }', undefined)).toEqual({ outcome: 'condition_failed', failed: 'source (unknown) is not in [10.0.0.0/8]' });
    expect(await apply('{ sourceCidr: 10.0.0.0/8 }', 'not-an-ip')).toEqual({ outcome: 'condition_failed', failed: 'source not-an-ip is not in [10.0.0.0/8]' });
    expect(await holds('{ sourceCidr: 10.0.0.0/8 }', '10.1.2.3:8080')).toBe(false);
    expect(await holds('{ sourceCidr: 10.0.0.0/8 }', '')).toBe(false);
  });

  it('needs no caller: an anonymous rule may limit by source', async () => {
    const policy = compileYaml('service: s\nrules:\n  - { id: office, effect: allow, anonymous: true, when: [{ sourceCidr: 192.0.2.0/24 }] }\n');
    const at = (address: string) => callerContext({ request: request(address) });
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, at('192.0.2.10'))).toMatchObject({ allowed: true });
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, at('198.51.100.10'))).toMatchObject({ allowed: false });
  });

  it('rejects an invalid CIDR at load, naming it and its position in the list', () => {
    expect(loadErrors('service: s\nrules:\n  - { id: r, effect: allow, when: [{ sourceCidr: [10.0.0.0/8, 10.0.0.0/33] }] }\n')).toEqual([
      'policy.yaml:3:63 [invalid_value] rules[0].when[0].sourceCidr[1]: "10.0.0.0/33" is not an IPv4 or IPv6 CIDR',
    ]);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', '10.0.0.0/8/8', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/-1', '10.0.0.0/+8', '::/129', 'example.com', '256.0.0.0/8', '10.0.0.0/8.0'])(
    'rejects "%s"',
    (cidr) => {
      expect(loadErrors(`service: s\nrules:\n  - { id: r, effect: allow, when: [{ sourceCidr: ["${cidr}"] }] }\n`)).toEqual([
        expect.stringMatching(new RegExp(`\\[invalid_value\\] rules\\[0\\]\\.when\\[0\\]\\.sourceCidr\\[0\\]: "${cidr.replace(/[.+?*/]/g, '\\$&')}" is not an IPv4 or IPv6 CIDR$`)),
      ]);
    },
  );
});
