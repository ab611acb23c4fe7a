// The client address conditions see: the peer, unless the peer is a trusted proxy, in which case
// the rightmost x-forwarded-for hop that is not itself a trusted proxy (anything to its left may
// have been written by the client).
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/pipeline/client-address.js';
import { cidrBlockList } from '../../src/policy/conditions/source-cidr.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml } from '../helpers/policy.js';

function trusted(...cidrs: string[]): BlockList {
  const list = cidrBlockList(cidrs);
  if (!(list instanceof BlockList)) throw new Error(`bad CIDR ${cidrs[list.invalid]}`);
  return list;
}

const PROXIES = trusted('10.0.0.0/8', 'fd00::/8');

describe('clientAddress', () => {
  it('is the peer when no proxies are trusted, whatever x-forwarded-for says', () => {
    expect(clientAddress('198.51.100.7', undefined, undefined)).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.7', '203.0.113.1', undefined)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.5', '203.0.113.1', undefined)).toBe('10.0.0.5');
  });

  it('ignores x-forwarded-for from a peer that is not a trusted proxy', () => {
    expect(clientAddress('198.51.100.7', '10.1.1.1', PROXIES)).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.7', '203.0.113.1, 10.0.0.2', PROXIES)).toBe('198.51.100.7');
  });

  it('takes the hop a trusted proxy reports', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.1', PROXIES)).toBe('203.0.113.1');
  });

  it('takes the rightmost hop that is not a trusted proxy, not a spoofed leftmost one', () => {
    expect(clientAddress('10.0.0.5', '192.0.2.66, 203.0.113.1, 10.0.0.9', PROXIES)).toBe('203.0.113.1');
    expect(clientAddress('10.0.0.5', '192.0.2.66,203.0.113.1,10.2.0.1,10.0.0.9', PROXIES)).toBe('203.0.113.1');
  });

  it('takes the leftmost hop when every hop is a trusted proxy', () => {
    expect(clientAddress('10.0.0.5', '10.9.9.9, 10.0.0.9', PROXIES)).toBe('10.9.9.9');
  });

  it('is the peer when a trusted proxy sends no or an empty x-forwarded-for', () => {
    expect(clientAddress('10.0.0.5', undefined, PROXIES)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '', PROXIES)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', ' , ,', PROXIES)).toBe('10.0.0.5');
  });

  it('trims spaces around hops', () => {
    expect(clientAddress('10.0.0.5', '  203.0.113.1  ,   10.0.0.9 ', PROXIES)).toBe('203.0.113.1');
  });

  it('recognizes an IPv4 proxy seen as ::ffff:a.b.c.d, and IPv6 proxies and clients', () => {
    expect(clientAddress('::ffff:10.0.0.5', '203.0.113.1', PROXIES)).toBe('203.0.113.1');
    expect(clientAddress('fd00::1', '2001:db8::7, fd12::3', PROXIES)).toBe('2001:db8::7');
    expect(clientAddress('2001:db8::9', '203.0.113.1', PROXIES)).toBe('2001:db8::9');
  });

  it('is undefined without a peer, even with x-forwarded-for', () => {
    expect(clientAddress(undefined, '203.0.113.1', PROXIES)).toBeUndefined();
    expect(clientAddress(undefined, undefined, undefined)).toBeUndefined();
  });
});

describe('client address in the pipeline', () => {
  const policy = compileYaml(`
service: office
rules:
  - { id: office, effect: allow, anonymous: true, when: [{ sourceCidr: 203.0.113.0/24 }] }
  - { id: blocked, effect: deny, when: [{ sourceCidr: 192.0.2.0/24 }] }
`);

  async function decide(peer: string, forwardedFor: string | undefined, proxies: BlockList | undefined) {
    const pipeline = pipelineWith({
      policies: () => new PolicySet([policy], 'v1'),
      authenticator: fixedIdentity({ authenticated: false }),
      limits: { maxHeaders: 10, maxHeaderBytes: 1000 },
      ...(proxies && { trustedProxies: proxies }),
    });
    const headers = new Map<string, string>(forwardedFor === undefined ? [] : [['x-forwarded-for', forwardedFor]]);
    return pipeline.decide(authzInput('office', '/', { headers, source: { address: peer } }));
  }

  it('decides on and records the forwarded client behind a trusted proxy', async () => {
    expect(await decide('10.0.0.5', '203.0.113.1', PROXIES)).toMatchObject({ allowed: true, ruleId: 'office', clientAddress: '203.0.113.1' });
    expect(await decide('10.0.0.5', '203.0.113.1, 192.0.2.9', PROXIES)).toMatchObject({ allowed: false, reason: 'explicit_deny', clientAddress: '192.0.2.9' });
  });

  it('does not let a client choose its address by writing x-forwarded-for', async () => {
    expect(await decide('198.51.100.7', '203.0.113.1', PROXIES)).toMatchObject({ allowed: false, clientAddress: '198.51.100.7' });
    expect(await decide('10.0.0.5', '203.0.113.1', undefined)).toMatchObject({ allowed: false, clientAddress: '10.0.0.5' });
  });
});

describe('clientAddress with ports in x-forwarded-for', () => {
  it('strips a port that a proxy appended to a hop', () => {
    const trusted = new BlockList();
    trusted.addSubnet('10.0.0.0', 8, 'ipv4');
    expect(clientAddress('10.0.0.1', '203.0.113.7:51234', trusted)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', '[2001:db8::1]:443, 10.0.0.2', trusted)).toBe('2001:db8::1');
    expect(clientAddress('10.0.0.1', '2001:db8::1', trusted)).toBe('2001:db8::1');
  });
});
