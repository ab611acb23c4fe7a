// `sourceCidr: [10.0.0.0/8, "fd00::/8"]`: the client address is in one of the ranges.
import { BlockList, isIP } from 'node:net';
import type { CompileContext, Condition } from './types.js';

export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Builds a BlockList from CIDRs; returns the index of the first invalid one instead. */
export function cidrBlockList(cidrs: readonly string[]): BlockList | { invalid: number } {
  const list = new BlockList();
  for (const [index, cidr] of cidrs.entries()) {
    const parsed = parseCidr(cidr);
    if (!parsed) return { invalid: index };
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

export function inBlockList(list: BlockList, rawAddress: string | undefined): boolean {
  if (rawAddress === undefined) return false;
  // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d; match it as IPv4.
  const address = rawAddress.toLowerCase().startsWith('::ffff:') && isIP(rawAddress.slice(7)) === 4 ? rawAddress.slice(7) : rawAddress;
  const version = isIP(address);
  if (version === 0) return false;
  return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

export function sourceCidrCondition(cidrs: readonly string[], context: CompileContext): Condition | undefined {
  const list = cidrBlockList(cidrs);
  if (!(list instanceof BlockList)) {
    context.issue('invalid_value', [list.invalid], `"${cidrs[list.invalid]}" is not an IPv4 or IPv6 CIDR`);
    return undefined;
  }
  const description = `source in [${cidrs.join(', ')}]`;
  return {
    kind: 'sourceCidr',
    category: 'plain',
    description,
    needsIdentity: false,
    evaluate({ request }) {
      return inBlockList(list, request.clientAddress)
        ? { ok: true }
        : { ok: false, detail: `source ${request.clientAddress ?? '(unknown)'} is not in [${cidrs.join(', ')}]` };
    },
  };
}
