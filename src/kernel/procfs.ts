/**
 * /proc: which process holds which socket, and how close it is to its file limit.
 *
 * A socket's file is a link `/proc/<pid>/fd/<n> -> socket:[<inode>]`; the same inode is what
 * sock_diag reports as idiag_inode and /proc/net/tcp as "inode", which is how sockets are
 * joined to their owners (what lsof and ss -p do). Reading another user's fd table needs root
 * (CAP_SYS_PTRACE); processes we may not read are skipped and counted.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';

export interface SocketFd {
  fd: number;
  inode: number;
}

export interface ProcessSockets {
  pid: number;
  comm: string;
  /** Number of open file descriptors. */
  fdCount: number;
  /** The fds that are sockets. */
  sockets: SocketFd[];
}

/** A process the scan could not look into, and why (the errno of the /proc read). */
export interface SkippedProcess {
  pid: number;
  comm: string;
  /** The /proc file that could not be read. */
  path: string;
  /** ENOENT/ESRCH: it exited during the scan; EACCES/EPERM: not allowed; or another errno. */
  code: string;
}

export interface ProcScan {
  processes: ProcessSockets[];
  /** Processes whose fd table could not be read (permission, or they exited meanwhile). */
  unreadable: number;
  /** The same processes, with the reason. */
  skipped: SkippedProcess[];
}

export async function listPids(): Promise<number[]> {
  const names = await readdir('/proc');
  const pids: number[] = [];
  for (const n of names) if (/^\d+$/.test(n)) pids.push(Number(n));
  return pids;
}

export async function readComm(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).replace(/\n$/, '');
  } catch {
    return '?';
  }
}

/** The inode of the network namespace `pid` lives in, or null when it cannot be read. */
export async function netnsInode(pid: number | 'self'): Promise<number | null> {
  try {
    const m = /^net:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/ns/net`));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** The socket fds of one process; null when its fd table cannot be read. */
export async function readProcessSockets(pid: number): Promise<ProcessSockets | null> {
  const r = await probeProcessSockets(pid);
  return 'code' in r ? null : r;
}

async function probeProcessSockets(pid: number): Promise<ProcessSockets | SkippedProcess> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch (e) {
    return { pid, comm: await readComm(pid), path: `/proc/${pid}/fd`, code: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
  const sockets: SocketFd[] = [];
  await Promise.all(
    fds.map(async (name) => {
      try {
        const target = await readlink(`/proc/${pid}/fd/${name}`);
        if (target.startsWith('socket:[')) sockets.push({ fd: Number(name), inode: Number(target.slice(8, -1)) });
      } catch {
        // closed meanwhile
      }
    }),
  );
  sockets.sort((a, b) => a.fd - b.fd);
  return { pid, comm: await readComm(pid), fdCount: fds.length, sockets };
}

export interface ScanOptions {
  /** Only these pids (default: every process). */
  pids?: number[];
  /** Only processes in this network namespace (inode). */
  netnsInode?: number | null;
}

/** Socket fds of every (or the chosen) process. */
export async function scanProcesses(options: ScanOptions = {}): Promise<ProcScan> {
  const pids = options.pids ?? (await listPids());
  const processes: ProcessSockets[] = [];
  const skipped: SkippedProcess[] = [];
  const self = process.pid;
  for (let i = 0; i < pids.length; i += 64) {
    const batch = await Promise.all(
      pids.slice(i, i + 64).map(async (pid): Promise<ProcessSockets | SkippedProcess | null> => {
        if (options.netnsInode !== undefined && options.netnsInode !== null) {
          try {
            const m = /^net:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/ns/net`));
            if (m !== null && Number(m[1]) !== options.netnsInode) return null;
          } catch (e) {
            return { pid, comm: await readComm(pid), path: `/proc/${pid}/ns/net`, code: (e as NodeJS.ErrnoException).code ?? 'EIO' };
          }
        }
        return probeProcessSockets(pid);
      }),
    );
    for (const r of batch) {
      if (r === null) continue;
      if ('code' in r) skipped.push(r);
      else if (r.pid !== self) processes.push(r);
    }
  }
  return { processes, unreadable: skipped.length, skipped };
}

/** True when a skipped process had merely exited before the scan reached it. */
export function exitedDuringScan(s: SkippedProcess): boolean {
  return s.code === 'ENOENT' || s.code === 'ESRCH';
}

/** The "ip netns" name of a network namespace (by inode), if it has one. */
export async function netnsName(inode: number): Promise<string | null> {
  for (const name of await readdir('/run/netns').catch(() => [] as string[])) {
    try {
      if ((await stat(`/run/netns/${name}`)).ino === inode) return name;
    } catch {
      // removed meanwhile
    }
  }
  return null;
}

/** inode → the processes (pid, comm, fd) that hold it. */
export function ownersByInode(scan: ProcScan): Map<number, { pid: number; comm: string; fd: number }[]> {
  const map = new Map<number, { pid: number; comm: string; fd: number }[]>();
  for (const p of scan.processes) {
    for (const s of p.sockets) {
      let list = map.get(s.inode);
      if (list === undefined) map.set(s.inode, (list = []));
      list.push({ pid: p.pid, comm: p.comm, fd: s.fd });
    }
  }
  return map;
}

export interface FileLimit {
  soft: number | null;
  hard: number | null;
}

/** RLIMIT_NOFILE of a process, from /proc/<pid>/limits ("Max open files"); null = unlimited/unknown. */
export async function readNofileLimit(pid: number): Promise<FileLimit> {
  try {
    const text = await readFile(`/proc/${pid}/limits`, 'utf8');
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (m === null) return { soft: null, hard: null };
    const n = (s: string): number | null => (s === 'unlimited' ? null : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return { soft: null, hard: null };
  }
}

/**
 * Inodes of the sockets listed in the tables of every network namespace that has a process
 * (a socket belongs to the namespace it was created in, which need not be its holder's: a
 * socketpair made by a parent outside `ip netns exec` is listed outside).
 */
export async function knownSocketInodesEverywhere(): Promise<Set<number>> {
  const seen = new Map<number, number>();
  for (const pid of await listPids()) {
    const ns = await netnsInode(pid);
    if (ns !== null && !seen.has(ns)) seen.set(ns, pid);
  }
  const all = await knownSocketInodes('self');
  for (const pid of seen.values()) for (const ino of await knownSocketInodes(pid)) all.add(ino);
  return all;
}

/**
 * Inodes of every socket the kernel lists in a network namespace's protocol tables
 * (/proc/<pid>/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6,unix,netlink,packet}).
 * A socket fd whose inode is in none of them is what lsof calls "can't identify protocol".
 */
export async function knownSocketInodes(pid: number | 'self' = 'self'): Promise<Set<number>> {
  const known = new Set<number>();
  const inetTables = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'];
  const headerTables = ['unix', 'netlink', 'packet'];
  await Promise.all(
    [...inetTables, ...headerTables].map(async (table) => {
      let text: string;
      try {
        text = await readFile(`/proc/${pid}/net/${table}`, 'utf8');
      } catch {
        return;
      }
      const lines = text.split('\n');
      let col = 9; // inet tables: sl local rem st tx:rx tr:when retrnsmt uid timeout inode
      if (headerTables.includes(table)) col = lines[0]!.trim().split(/\s+/).findIndex((h) => h.toLowerCase() === 'inode');
      if (col < 0) return;
      for (let i = 1; i < lines.length; i++) {
        const tok = lines[i]!.trim().split(/\s+/);
        const ino = Number(tok[col]);
        if (Number.isInteger(ino) && ino > 0) known.add(ino);
      }
    }),
  );
  return known;
}
