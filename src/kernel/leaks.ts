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
 *    "can't identify protocol". Two very different things end up like that, and from outside the
 *    process they look the same (a closed, unhashed socket, with no port): a TCP connection the
 *    kernel finished on its own (reset by the peer, timed out) while the application still holds
 *    the fd — a leak — and a socket that was never bound or connected (a fresh socket(), a UDP
 *    socket kept for ioctl()) — no leak at all. So they are reported as `unlisted`, not as
 *    leaks; only a socket that an earlier sample (--watch) saw in a table and that has left every
 *    table since is known to be a finished connection (`finished`), and counts as a leak.
 *  - open fds against the soft RLIMIT_NOFILE: when they meet, accept() and socket() fail with EMFILE.
 */
import { knownSocketInodesEverywhere, readNofileLimit, type SkippedProcess } from './procfs.js';
import { readSocketTable, type SocketSource } from './socket-table.js';
import { unreadBytesOf } from './tcp-socket.js';
import { TCP_CLOSE_WAIT } from './tcp-states.js';
import { endpointText } from '../report/terminal.js';

export interface CloseWaitSocket {
  fd: number;
  inode: number;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  /** Data bytes the application never read (idiag_rqueue less the 1 the peer's FIN counts for, as `sockets` shows it). */
  unreadBytes: number;
  /** ms since the last ACK from the peer (≈ time in CLOSE_WAIT for an idle socket); null without tcp_info. */
  sinceLastAckMs: number | null;
  /** Epoch seconds when a sample first saw this socket (with --watch). */
  firstSeen: number;
}

/** A socket fd whose socket is in no protocol table of any network namespace. */
export interface UnlistedSocketFd {
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
  /**
   * Socket fds that an earlier sample saw in a protocol table and that are in none now: a
   * connection the kernel finished (reset, timed out) while the program kept the fd. A leak.
   */
  finished: UnlistedSocketFd[];
  /**
   * Socket fds in no protocol table, never seen in one: never bound or connected (no leak), or a
   * connection finished before the first sample (a leak); tcpsleuth cannot tell which.
   */
  unlisted: UnlistedSocketFd[];
  /** CLOSE_WAIT sockets grouped by the peer address they came from. */
  peers: { peer: string; count: number }[];
  /** CLOSE_WAIT sockets grouped by local port (the service that leaks). */
  localPorts: { port: number; count: number }[];
  /** Growth since the previous sample (with --watch). */
  growth?: { closeWait: number; finished: number; unlisted: number; fdCount: number };
}

export interface LeakReport {
  takenAt: number;
  source: SocketSource;
  note?: string;
  processes: ProcessLeaks[];
  /** Processes whose fds could not be read. */
  unreadable: number;
  /** Those processes, and why (see formatUnreadable). */
  skipped: SkippedProcess[];
}

export interface LeakOptions {
  /** Only these processes (they are reported even when clean). */
  pids?: number[];
  /** Report a process when its open fds reach this fraction of RLIMIT_NOFILE (default 0.8). */
  fdWarnFraction?: number;
  /** The previous report, to carry first-seen times and compute growth. */
  previous?: LeakReport;
  source?: 'auto' | SocketSource;
  /**
   * Inodes of sockets seen in a protocol table by earlier samples, kept by the caller across
   * samples (--watch): findLeaks reads it to recognise finished connections and updates it.
   */
  seenListed?: Set<number>;
}

/** Whether a process's findings are a leak (what --fail-on-leak reports): unlisted fds are not. */
export function isLeaking(p: ProcessLeaks): boolean {
  return p.closeWait.length > 0 || p.finished.length > 0;
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
  const seenBefore = new Set(options.seenListed ?? []);
  options.seenListed?.clear();
  const processes: ProcessLeaks[] = [];
  for (const p of table.scan.processes) {
    if (onlyPids !== null && !onlyPids.has(p.pid)) continue;
    const prev = prevByPid.get(p.pid);
    const prevFirstSeen = new Map((prev?.closeWait ?? []).map((c) => [c.inode, c.firstSeen]));
    const closeWait: CloseWaitSocket[] = [];
    const finished: UnlistedSocketFd[] = [];
    const unlisted: UnlistedSocketFd[] = [];
    for (const fd of p.sockets) {
      const s = byInode.get(fd.inode);
      if (s !== undefined || known.has(fd.inode)) options.seenListed?.add(fd.inode);
      if (s !== undefined) {
        if (s.stateCode === TCP_CLOSE_WAIT) {
          closeWait.push({
            fd: fd.fd,
            inode: fd.inode,
            saddr: s.saddr,
            sport: s.sport,
            daddr: s.daddr,
            dport: s.dport,
            unreadBytes: unreadBytesOf(s) ?? 0,
            sinceLastAckMs: s.tcpInfo?.lastAckRecvMs ?? null,
            firstSeen: prevFirstSeen.get(fd.inode) ?? now,
          });
        }
      } else if (!known.has(fd.inode)) {
        if (seenBefore.has(fd.inode)) {
          finished.push({ fd: fd.fd, inode: fd.inode });
          options.seenListed?.add(fd.inode);
        } else {
          unlisted.push({ fd: fd.fd, inode: fd.inode });
        }
      }
    }
    const limit = await readNofileLimit(p.pid);
    const nearLimit = limit.soft !== null && p.fdCount >= limit.soft * warn;
    if (onlyPids === null && closeWait.length === 0 && finished.length === 0 && unlisted.length === 0 && !nearLimit) continue;
    const leak: ProcessLeaks = {
      pid: p.pid,
      comm: p.comm,
      fdCount: p.fdCount,
      socketFdCount: p.sockets.length,
      nofileSoft: limit.soft,
      nofileHard: limit.hard,
      closeWait,
      finished,
      unlisted,
      peers: [...countBy(closeWait, (c) => c.daddr)].map(([peer, count]) => ({ peer: String(peer), count })).sort((a, b) => b.count - a.count),
      localPorts: [...countBy(closeWait, (c) => c.sport)].map(([port, count]) => ({ port: Number(port), count })).sort((a, b) => b.count - a.count),
    };
    if (prev !== undefined) {
      leak.growth = {
        closeWait: closeWait.length - prev.closeWait.length,
        finished: finished.length - prev.finished.length,
        unlisted: unlisted.length - prev.unlisted.length,
        fdCount: p.fdCount - prev.fdCount,
      };
    }
    processes.push(leak);
  }
  processes.sort((a, b) => b.closeWait.length + b.finished.length - (a.closeWait.length + a.finished.length) || b.unlisted.length - a.unlisted.length || a.pid - b.pid);
  return { takenAt: now, source: table.source, ...(table.note === undefined ? {} : { note: table.note }), processes, unreadable: table.scan.unreadable, skipped: table.scan.skipped };
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
  if (p.finished.length > 0) {
    out.push(
      `${p.finished.length === 1 ? '1 socket file descriptor holds a connection' : `${p.finished.length} socket file descriptors hold connections`} that an earlier sample saw in the kernel's tables and that the kernel has finished since (reset by the peer, or timed out), ` +
        'while the program kept the descriptor open: the same missing close(), later in life.',
    );
  }
  if (p.unlisted.length > 0) {
    const also = p.closeWait.length > 0 || p.finished.length > 0 ? ' This program also leaks connections (above), so these are probably the same leak further on.' : '';
    out.push(
      `${p.unlisted.length === 1 ? '1 socket file descriptor refers to a socket' : `${p.unlisted.length} socket file descriptors refer to sockets`} in no protocol table (lsof: "can't identify protocol"), not counted as a leak: ` +
        'a socket never bound or connected (a fresh socket(), a UDP socket kept for ioctl()) is like that, and so is a connection the kernel finished (reset, timed out) while the program kept the descriptor. ' +
        `From outside the process the two look the same; --watch tells a connection that finishes while it watches.${also}`,
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
