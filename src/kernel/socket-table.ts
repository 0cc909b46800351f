/**
 * The live TCP socket table joined to the processes that own each socket.
 *
 * Sockets come from sock_diag over netlink (with tcp_info); when netlink cannot be used they
 * come from /proc/net/tcp{,6}, and `source`/`note` say so. Owners come from /proc/<pid>/fd.
 * Both describe the network namespace tcpsleuth runs in (run it with `ip netns exec NAME` for
 * another one); only processes of that namespace are scanned for owners.
 */
import { readProcNetTcp } from './proc-net-tcp.js';
import { existsSync } from 'node:fs';
import { netnsInode, netnsName, ownersByInode, type ProcScan, readComm, scanProcesses } from './procfs.js';
import { dumpTcpSockets } from './sockdiag.js';
import { type TcpSocket, unreadBytesOf } from './tcp-socket.js';
import { TsleuthError } from '../errors.js';
import { escapeForTerminal } from '../report/terminal.js';

export type SocketSource = 'netlink' | 'proc';

export interface SocketQuery {
  /** TCP state numbers to keep (default all). */
  states?: number[];
  /** Keep sockets with one of these ports at either end. */
  ports?: number[];
  /** Keep sockets owned by one of these processes. */
  pids?: number[];
  /** 'auto' (default): netlink, else /proc; 'netlink' or 'proc' to force one. */
  source?: 'auto' | SocketSource;
}

export interface SocketTable {
  sockets: TcpSocket[];
  source: SocketSource;
  /** Why the fallback was used, when it was. */
  note?: string;
  /** The /proc scan behind the owners (reused by the leak detector). */
  scan: ProcScan;
  takenAt: number;
}

export async function readSocketTable(query: SocketQuery = {}): Promise<SocketTable> {
  const stateMask = query.states && query.states.length > 0 ? query.states.reduce((m, s) => m | (1 << s), 0) : undefined;
  let sockets: TcpSocket[];
  let source: SocketSource = 'netlink';
  let note: string | undefined;
  const want = query.source ?? 'auto';
  if (want === 'proc') {
    source = 'proc';
    sockets = await readProcNetTcp();
  } else {
    try {
      sockets = await dumpTcpSockets(stateMask === undefined ? {} : { states: stateMask });
    } catch (e) {
      if (want === 'netlink' || !(e instanceof TsleuthError)) throw e;
      source = 'proc';
      note = `netlink sock_diag is unavailable (${e.message}); read /proc/net/tcp{,6} instead: no RTT, retransmission or loss figures`;
      sockets = await readProcNetTcp();
    }
  }
  const scan = await scanProcesses({ netnsInode: await netnsInode('self') });
  const owners = ownersByInode(scan);
  for (const s of sockets) {
    if (s.inode !== 0) s.owners = owners.get(s.inode) ?? [];
    const unread = unreadBytesOf(s);
    if (unread !== null) s.unreadBytes = unread;
  }
  const states = query.states && query.states.length > 0 ? new Set(query.states) : null;
  const ports = query.ports && query.ports.length > 0 ? new Set(query.ports) : null;
  const pids = query.pids && query.pids.length > 0 ? new Set(query.pids) : null;
  sockets = sockets.filter(
    (s) =>
      (states === null || states.has(s.stateCode)) &&
      (ports === null || ports.has(s.sport) || ports.has(s.dport)) &&
      (pids === null || s.owners.some((o) => pids.has(o.pid))),
  );
  sockets.sort((a, b) => a.stateCode - b.stateCode || a.sport - b.sport || a.dport - b.dport);
  return { sockets, source, ...(note === undefined ? {} : { note }), scan, takenAt: Date.now() / 1000 };
}

/**
 * Checks `--pid` values for commands that read this network namespace's tables: a process that
 * does not exist, or that lives in another network namespace (whose sockets are not in these
 * tables), is a usage error with one sentence saying so, never an empty report.
 */
export async function checkPidsInThisNetns(pids: readonly number[], command: string): Promise<void> {
  const here = await netnsInode('self');
  for (const pid of pids) {
    if (!existsSync(`/proc/${pid}`)) throw new TsleuthError('TSL_ERR_USAGE', `--pid ${pid}: no such process`);
    const there = await netnsInode(pid);
    if (here === null || there === null || there === here) continue;
    const comm = escapeForTerminal(await readComm(pid));
    const name = await netnsName(there);
    const how = name !== null ? `ip netns exec ${name} tcpsleuth ${command} --pid ${pid}` : `nsenter -t ${pid} -n tcpsleuth ${command} --pid ${pid}`;
    throw new TsleuthError(
      'TSL_ERR_USAGE',
      `--pid ${pid} (${comm}) lives in another network namespace (${name !== null ? `"${name}"` : `net:[${there}]`}), whose sockets are not in this namespace's tables: run "${how}"`,
    );
  }
}
