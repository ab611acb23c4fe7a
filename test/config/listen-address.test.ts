import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress } from '../../src/config/listen-address.js';

describe('listen addresses', () => {
  it('parses a Unix domain socket path', () => {
    expect(parseListenAddress('unix:/var/run/keycard/keycard.sock')).toEqual({ host: '', port: 0, socket: '/var/run/keycard/keycard.sock' });
    expect(formatListenAddress({ host: '', port: 0, socket: '/tmp/k.sock' })).toBe('unix:/tmp/k.sock');
  });

  it.each(['unix:relative.sock', 'unix:', 'unix:/with space'])('rejects %j', (text) => {
    expect(parseListenAddress(text)).toBeUndefined();
  });

  it('formats TCP addresses, bracketing IPv6', () => {
    expect(formatListenAddress({ host: '::', port: 9001 })).toBe('[::]:9001');
    expect(formatListenAddress({ host: '0.0.0.0', port: 9001 })).toBe('0.0.0.0:9001');
  });
});
