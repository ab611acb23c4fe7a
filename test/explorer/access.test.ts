// Who may use the explorer, decided from the peer address and the request headers: loopback
// clients that were not forwarded and name a loopback host, or the bearer of the admin token.
import { describe, expect, it } from 'vitest';
import { explorerAccess, isLoopbackAddress, type AccessOptions, type TokenCheck } from '../../src/explorer/access.js';

const TOKEN = 'the-admin-token-0123456789';
const configured: TokenCheck = { configured: true, matches: (presented) => presented === TOKEN };
const none: TokenCheck = { configured: false, matches: () => false };

function access(remoteAddress: string | undefined, headers: Record<string, string>, options: Partial<AccessOptions> = {}) {
  return explorerAccess({ remoteAddress, headers }, { token: configured, unixSocket: false, ...options });
}

describe('explorer access', () => {
  it('lets loopback clients in without a token', () => {
    expect(access('127.0.0.1', { host: '127.0.0.1:9090' })).toEqual({ allowed: true, via: 'local' });
    expect(access('::1', { host: '[::1]:9090' })).toEqual({ allowed: true, via: 'local' });
    expect(access('::ffff:127.0.0.1', { host: 'localhost:9090' })).toEqual({ allowed: true, via: 'local' });
  });

  it('asks a non-loopback client for the token (401), and refuses it (403) when none is configured', () => {
    expect(access('10.0.0.5', { host: 'keycard:9090' })).toEqual({
      allowed: false,
      status: 401,
      message: 'the explorer answers loopback clients only: send the admin token (Authorization: Bearer ...)',
      challenge: 'Bearer realm="keycard explorer"',
    });
    expect(access('10.0.0.5', { host: 'keycard:9090' }, { token: none })).toMatchObject({ allowed: false, status: 403 });
    expect(access(undefined, { host: 'localhost' })).toMatchObject({ allowed: false, status: 401 });
  });

  it('lets the bearer of the token in from anywhere, and refuses a wrong one even from loopback', () => {
    expect(access('10.0.0.5', { host: 'keycard:9090', authorization: `Bearer ${TOKEN}` })).toEqual({ allowed: true, via: 'token' });
    expect(access('10.0.0.5', { host: 'keycard:9090', authorization: `bearer  ${TOKEN}` })).toEqual({ allowed: true, via: 'token' });
    for (const authorization of [`Bearer ${TOKEN}x`, `Basic ${TOKEN}`, 'Bearer', `Bearer ${TOKEN} extra`]) {
      expect(access('10.0.0.5', { host: 'keycard:9090', authorization }), authorization).toMatchObject({ allowed: false, status: 401, challenge: 'Bearer realm="keycard explorer", error="invalid_token"' });
    }
    expect(access('127.0.0.1', { host: 'localhost', authorization: 'Bearer wrong' })).toMatchObject({ allowed: false, status: 401 });
    expect(access('10.0.0.5', { authorization: `Bearer ${TOKEN}` }, { token: none })).toMatchObject({ allowed: false, status: 401 });
  });

  it('does not count a loopback peer that forwards someone else, or a page on another site (DNS rebinding)', () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-envoy-external-address']) {
      expect(access('127.0.0.1', { host: 'localhost', [header]: '203.0.113.7' }), header).toMatchObject({ allowed: false, status: 401, message: expect.stringContaining('forwarded by a proxy') });
    }
    expect(access('127.0.0.1', { host: 'rebind.attacker.example:9090' })).toMatchObject({ allowed: false, message: expect.stringContaining('Host header') });
    expect(access('127.0.0.1', {})).toMatchObject({ allowed: false });
  });

  it('counts a Unix domain socket as local: its file permissions decide who connects', () => {
    expect(access(undefined, {}, { unixSocket: true })).toEqual({ allowed: true, via: 'local' });
  });

  it('takes the loopback test from the options (a peer address is whatever the socket says)', () => {
    expect(access('192.0.2.9', { host: 'localhost' }, { isLoopback: () => true })).toEqual({ allowed: true, via: 'local' });
    expect(access('127.0.0.1', { host: 'localhost' }, { isLoopback: () => false })).toMatchObject({ allowed: false, status: 401 });
  });

  it('knows the loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::', '::2', '128.0.0.1', '::ffff:10.0.0.1', '127.0.0.1.nip.io', 'fe80::1']) expect(isLoopbackAddress(address), address).toBe(false);
  });
});
