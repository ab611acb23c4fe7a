// What /proc says about a keycard cluster: the primary's worker processes, and how many
// established TCP connections on a port each of them holds.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Process ids whose parent is `pid`, in ascending order. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return children.sort((a, b) => a - b);
}

/** Established TCP connections (IPv4 or IPv6) whose local port is `port` and whose socket `pid` holds. */
export function establishedConnections(pid: number, port: number): number {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) sockets.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const localPort = parseInt(fields[1]!.split(':')[1]!, 16);
      // st 01 is ESTABLISHED; field 10 is the socket's inode.
      if (localPort === port && fields[3] === '01' && sockets.has(fields[9]!)) count++;
    }
  }
  return count;
}
