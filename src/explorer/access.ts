// Who may use the explorer: a client on loopback (kubectl port-forward, a shell in the pod), or
// anyone presenting the admin bearer token. The admin port itself stays open to the cluster for
// probes and metrics, so this check guards every explorer route, the page and its script included.
import { bearerToken } from '../authn/authenticator.js';
import type { IncomingHttpHeaders } from 'node:http';
import { BlockList } from 'node:net';
import { isLoopbackHost } from '../config/loopback.js';
import { inBlockList } from '../policy/conditions/source-cidr.js';

export interface TokenCheck {
  /** Whether a token is configured at all. */
  readonly configured: boolean;
  matches(presented: string): boolean;
}

export interface AccessRequest {
  /** The TCP peer; undefined on a Unix domain socket. */
  readonly remoteAddress: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export interface AccessOptions {
  readonly token: TokenCheck;
  /** The admin port is a Unix domain socket: its file permissions decide who connects, like loopback. */
  readonly unixSocket: boolean;
  /** Replaceable in tests; defaults to isLoopbackAddress. */
  readonly isLoopback?: (address: string) => boolean;
}

export type Access =
  | { readonly allowed: true; readonly via: 'local' | 'token' }
  | { readonly allowed: false; readonly status: 401 | 403; readonly message: string; readonly challenge?: string };

/** Headers a proxy adds: a loopback peer that forwards someone else's request is not a local client. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-envoy-external-address'] as const;

const REALM = 'Bearer realm="keycard explorer"';

export function explorerAccess(request: AccessRequest, options: AccessOptions): Access {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = presentedToken(authorization);
    if (token !== undefined && options.token.matches(token)) return { allowed: true, via: 'token' };
    // A wrong token is refused even from loopback: whoever sent it meant to authenticate.
    return { allowed: false, status: 401, message: 'the admin token is not valid', challenge: `${REALM}, error="invalid_token"` };
  }
  const local = whyNotLocal(request, options);
  if (local === undefined) return { allowed: true, via: 'local' };
  if (options.token.configured) return { allowed: false, status: 401, message: `${local}: send the admin token (Authorization: Bearer ...)`, challenge: REALM };
  return { allowed: false, status: 403, message: `${local}, and no explorer.adminTokenFile or adminTokenEnv is configured` };
}

/** Undefined for a local client, else why the request does not count as one. */
function whyNotLocal(request: AccessRequest, options: AccessOptions): string | undefined {
  if (options.unixSocket) return undefined;
  const { remoteAddress, headers } = request;
  const isLoopback = options.isLoopback ?? isLoopbackAddress;
  if (remoteAddress === undefined || !isLoopback(remoteAddress)) return 'the explorer answers loopback clients only';
  if (FORWARDING_HEADERS.some((name) => headers[name] !== undefined)) return 'the request was forwarded by a proxy';
  // A page on another site can reach a loopback port through DNS rebinding; its Host header is that site's name.
  if (!isLoopbackHostHeader(headers.host)) return 'the Host header does not name the loopback interface';
  return undefined;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses (::ffff:127.0.0.1), matched as sourceCidr matches. */
export function isLoopbackAddress(address: string): boolean {
  return inBlockList(LOOPBACK, address);
}

function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return isLoopbackHost(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}

/** The bearer token of an Authorization header, as Check reads one; undefined for any other or a malformed one. */
function presentedToken(authorization: string): string | undefined {
  try {
    return bearerToken(authorization);
  } catch {
    return undefined;
  }
}
