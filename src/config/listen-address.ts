// Listen addresses: HOST:PORT (IPv6 as [::]:PORT; port 0 picks a free port), or a Unix domain
// socket `unix:/absolute/path` (Envoy in the same pod reaches keycard without a TCP port).
import { z } from 'zod';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** Set for a Unix domain socket; host and port are then unused. */
  readonly socket?: string;
}

export function parseListenAddress(text: string): ListenAddress | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('unix:')) {
    const socket = trimmed.slice('unix:'.length);
    return socket.startsWith('/') && !/[\s\0]/.test(socket) ? { host: '', port: 0, socket } : undefined;
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(trimmed);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** The form grpc-js binds to: `HOST:PORT`, `[v6]:PORT` or `unix:/path`. */
export function formatListenAddress({ host, port, socket }: ListenAddress): string {
  if (socket !== undefined) return `unix:${socket}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export const listenAddress = z.string().transform((value, ctx) => {
  const parsed = parseListenAddress(value);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not HOST:PORT or unix:/absolute/path` });
    return z.NEVER;
  }
  return parsed;
});
