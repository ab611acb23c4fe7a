// The client address conditions see. Envoy reports the peer that connected to it; behind a
// trusted proxy (an ingress, a load balancer) the client is the last x-forwarded-for hop that is
// not itself a trusted proxy. Without trusted proxies x-forwarded-for is ignored: any client can
// write it.
import type { BlockList } from 'node:net';
import { cidrBlockList, inBlockList } from '../policy/conditions/source-cidr.js';

export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trustedProxies: BlockList | undefined): string | undefined {
  if (!trustedProxies || !inBlockList(trustedProxies, peer) || !forwardedFor) return peer;
  const hops = forwardedFor.split(',').map(withoutPort).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!inBlockList(trustedProxies, hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

/** Some proxies append the port: `203.0.113.7:51234`, `[2001:db8::1]:443`. */
function withoutPort(hop: string): string {
  const trimmed = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(trimmed);
  if (bracketed) return bracketed[1]!;
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(trimmed);
  return v4WithPort ? v4WithPort[1]! : trimmed;
}

/** The `network.trustedProxies` setting as a BlockList; undefined when none are trusted. */
export function trustedProxyList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = cidrBlockList(cidrs);
  // The settings schema has checked every CIDR; a bad one here is a bug, not a user error.
  if ('invalid' in list) throw new Error(`network.trustedProxies[${list.invalid}] is not a CIDR`);
  return list;
}
