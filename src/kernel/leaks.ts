/**
 * Socket leak detector: the seed's fd-leak experiment (a server that accept()s and never
 * close()s) turned into a check that runs against any live system.
 *
 * Per process it finds:
 *  - sockets in TCP_CLOSE_WAIT: the peer has closed its side (its FIN arrived and was ACKed) but
 *    the application never called close(). They stay until it does; each holds an fd.
 *    How long: tcp_info's tcpi_last_ack_recv (ms since the last ACK arrived, which for an idle
 *    CLOSE_WAIT socket is the peer's FIN), and, across samples, the time first seen.
 *  - socket fds that match no socket the kernel lists in any protocol table: what lsof shows as
 *    "can't identify protocol". A TCP connection that the kernel finished on its own (reset by
 *    the peer, timed out) while the application still holds the fd ends up like that.
 *  - open fds against the soft RLIMIT_NOFILE: when they meet, accept() and socket() fail with EMFILE.
 */
import { knownSocketInodesEverywhere, readNofileLimit } from './procfs.js';
import { readSocketTable, type SocketSource } from './socket-table.js';
import { TCP_CLOSE_WAIT } from './tcp-states.js';
import { endpointText } from '../report/terminal.js';

export interface CloseWaitSocket {
  fd: number;
  inode: number;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  /** Data bytes the application never read (idiag_rqueue less the 1 the peer's FIN counts for). */
  unreadBytes: number;
  /** ms since the last ACK from the peer (≈ time in CLOSE_WAIT for an idle socket); null without tcp_info. */
  sinceLastAckMs: number | null;
  /** Epoch seconds when a sample first saw this socket (with --watch). */
  firstSeen: number;
}

export interface UnidentifiedSocketFd {
  fd: number;
  inode: number;
}

export interface ProcessLeaks {
  pid: number;
  comm: string;
  fdCount: number;
  socketFdCount: number;
  nofileSoft: number | null;
  nofileHard: number | null;
  closeWait: CloseWaitSocket[];
  unidentified: UnidentifiedSocketFd[];
  /** CLOSE_WAIT sockets grouped by the peer address they came from. */
  peers: { peer: string; count: number }[];
  /** CLOSE_WAIT sockets grouped by local port (the service that leaks). */
  localPorts: { port: number; count: number }[];
  /** Growth since the previous sample (with --watch). */
  growth?: { closeWait: number; unidentified: number; fdCount: number };
}

export interface LeakReport {
  takenAt: number;
  source: SocketSource;
  note?: string;
  processes: ProcessLeaks[];
  /** Processes whose fds could not be read. */
  unreadable: number;
}

export interface LeakOptions {
  /** Only these processes (they are reported even when clean). */
  pids?: number[];
  /** Report a process when its open fds reach this fraction of RLIMIT_NOFILE (default 0.8). */
  fdWarnFraction?: number;
  /** The previous report, to carry first-seen times and compute growth. */
  previous?: LeakReport;
  source?: 'auto' | SocketSource;
}

function countBy<T>(items: T[], key: (t: T) => string | number): Map<string | number, number> {
  const m = new Map<string | number, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

export async function findLeaks(options: LeakOptions = {}): Promise<LeakReport> {
  const table = await readSocketTable({ source: options.source ?? 'auto' });
  const known = await knownSocketInodesEverywhere();
  // Sockets from the dump count as known too (the dump and /proc/net are two reads, not one).
  for (const s of table.sockets) if (s.inode !== 0) known.add(s.inode);
  const byInode = new Map(table.sockets.filter((s) => s.inode !== 0).map((s) => [s.inode, s]));
  const prevByPid = new Map((options.previous?.processes ?? []).map((p) => [p.pid, p]));
  const onlyPids = options.pids && options.pids.length > 0 ? new Set(options.pids) : null;
  const warn = options.fdWarnFraction ?? 0.8;
  const now = table.takenAt;
  const processes: ProcessLeaks[] = [];
  for (const p of table.scan.processes) {
    if (onlyPids !== null && !onlyPids.has(p.pid)) continue;
    const prev = prevByPid.get(p.pid);
    const prevFirstSeen = new Map((prev?.closeWait ?? []).map((c) => [c.inode, c.firstSeen]));
    const closeWait: CloseWaitSocket[] = [];
    const unidentified: UnidentifiedSocketFd[] = [];
    for (const fd of p.sockets) {
      const s = byInode.get(fd.inode);
      if (s !== undefined) {
        if (s.stateCode === TCP_CLOSE_WAIT) {
          closeWait.push({
            fd: fd.fd,
            inode: fd.inode,
            saddr: s.saddr,
            sport: s.sport,
            daddr: s.daddr,
            dport: s.dport,
            unreadBytes: Math.max(0, s.rqueue - 1),
            sinceLastAckMs: s.tcpInfo?.lastAckRecvMs ?? null,
            firstSeen: prevFirstSeen.get(fd.inode) ?? now,
          });
        }
      } else if (!known.has(fd.inode)) {
        unidentified.push({ fd: fd.fd, inode: fd.inode });
      }
    }
    const limit = await readNofileLimit(p.pid);
    const nearLimit = limit.soft !== null && p.fdCount >= limit.soft * warn;
    if (onlyPids === null && closeWait.length === 0 && unidentified.length === 0 && !nearLimit) continue;
    const leak: ProcessLeaks = {
      pid: p.pid,
      comm: p.comm,
      fdCount: p.fdCount,
      socketFdCount: p.sockets.length,
      nofileSoft: limit.soft,
      nofileHard: limit.hard,
      closeWait,
      unidentified,
      peers: [...countBy(closeWait, (c) => c.daddr)].map(([peer, count]) => ({ peer: String(peer), count })).sort((a, b) => b.count - a.count),
      localPorts: [...countBy(closeWait, (c) => c.sport)].map(([port, count]) => ({ port: Number(port), count })).sort((a, b) => b.count - a.count),
    };
    if (prev !== undefined) {
      leak.growth = { closeWait: closeWait.length - prev.closeWait.length, unidentified: unidentified.length - prev.unidentified.length, fdCount: p.fdCount - prev.fdCount };
    }
    processes.push(leak);
  }
  processes.sort((a, b) => b.closeWait.length + b.unidentified.length - (a.closeWait.length + a.unidentified.length) || a.pid - b.pid);
  return { takenAt: now, source: table.source, ...(table.note === undefined ? {} : { note: table.note }), processes, unreadable: table.scan.unreadable };
}

/** Plain-words explanation of one process's findings: what it means and what to fix. */
export function explainProcessLeaks(p: ProcessLeaks): string[] {
  const out: string[] = [];
  if (p.closeWait.length > 0) {
    const ports = p.localPorts.slice(0, 3).map((x) => `${x.port} (${x.count})`).join(', ');
    const peers = p.peers.slice(0, 3).map((x) => `${x.peer} (${x.count})`).join(', ');
    out.push(
      `${p.closeWait.length} connection(s) in CLOSE_WAIT on local port(s) ${ports}, from ${peers}: the peer closed its side, but this program never called close() on the socket. ` +
        'The kernel keeps the socket (and its file descriptor) until it does. Fix the code path that handles end-of-stream or errors: ' +
        'when read()/recv() returns 0 (EOF) or fails, close the socket (in a finally/defer block, including on exceptions and timeouts).',
    );
  }
  if (p.unidentified.length > 0) {
    out.push(
      `${p.unidentified.length} socket file descriptor(s) refer to sockets the kernel no longer lists in any protocol table (lsof: "can't identify protocol"). ` +
        'Typically a TCP connection the kernel finished on its own (reset by the peer, or timed out) while the program kept the descriptor open: the same missing close(), later in life.',
    );
  }
  if (p.nofileSoft !== null) {
    const pct = Math.round((100 * p.fdCount) / p.nofileSoft);
    if (pct >= 80) {
      out.push(`${p.fdCount} of ${p.nofileSoft} allowed file descriptors are open (${pct}%): at the limit accept() and socket() fail with EMFILE ("Too many open files"). Fix the leak; raising the limit (ulimit -n, LimitNOFILE=) only buys time.`);
    }
  }
  if (p.growth !== undefined && p.growth.closeWait > 0) out.push(`CLOSE_WAIT grew by ${p.growth.closeWait} since the previous sample: the leak is ongoing.`);
  return out;
}

export function closeWaitTuple(c: CloseWaitSocket): string {
  return `${endpointText(c.saddr, c.sport)} <- ${endpointText(c.daddr, c.dport)}`;
}
