/**
 * Which kernel events a trace keeps: ports, hosts, processes, network namespace, reasons.
 *
 * Address matching happens here, in user space: tracefs filters cannot match the address
 * arrays (`__u8 saddr[28]`), and tcp_send_reset carries its tuple only in such arrays. Ports
 * are additionally pushed into the kernel for events with scalar sport/dport fields (see
 * tracer.ts), which only removes work, never events this filter would keep.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { TsleuthError } from '../errors.js';
import type { KernelEvent } from './trace-events.js';

const execFileP = promisify(execFile);

export interface TraceFilter {
  /** Keep events with one of these ports at either end. */
  ports?: number[];
  /** Keep events with one of these addresses at either end (IPv4 or IPv6 text). */
  hosts?: string[];
  /** Keep events whose task belongs to one of these processes (thread group ids). */
  pids?: number[];
  /** Keep events whose task has one of these names (comm, at most 15 bytes). */
  comms?: string[];
  /**
   * Keep events of this network namespace (its inode number, see resolveNetns): events raised by
   * a task of the namespace, and events raised in interrupt context whose local address is one of
   * the namespace's (see EventMatcher).
   */
  netnsInode?: number;
  /** A path to that namespace (/run/netns/NAME, /proc/PID/ns/net), to read its addresses; found from the inode when omitted. */
  netnsPath?: string;
  /** Keep only events with one of these reason names (sk_rst_reason / skb_drop_reason). */
  reasons?: string[];
}

/** Canonical text of an address so "::ffff:127.0.0.1", "0:0::1" and "::1" compare as the kernel prints them. */
export function canonicalHost(h: string): string {
  const s = h.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (isIP(s) === 6) {
    try {
      return new URL(`http://[${s}]/`).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return s;
    }
  }
  return s;
}

/** An address as a namespace owns it: canonical, and an IPv4-mapped IPv6 address as its IPv4 address. */
function ownedForm(addr: string): string {
  const c = canonicalHost(addr);
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(c);
  if (m !== null) return m[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(c);
  if (hex !== null) {
    const hi = Number.parseInt(hex[1]!, 16);
    const lo = Number.parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return c;
}

/** Addresses every namespace has (loopback) or none owns (unspecified): they tell no namespace apart. */
function sharedAddress(addr: string): boolean {
  return addr === '::1' || addr === '::' || addr === '0.0.0.0' || addr.startsWith('127.');
}

/** Checks --host values: an IPv4 or IPv6 address (brackets allowed), not a name. */
export function checkHost(h: string): string {
  const s = h.trim().replace(/^\[|\]$/g, '');
  if (isIP(s) === 0) throw new TsleuthError('TSL_ERR_USAGE', `--host ${JSON.stringify(h)} is not an IPv4 or IPv6 address (names are not resolved: give the address)`);
  return s;
}

/**
 * The address that says in which namespace an event happened: the local end of its socket, or
 * for a reset sent without a socket its source, or for a drop with a tuple taken from that reset
 * the segment's destination. Null when the event carries none.
 */
function localAddress(e: KernelEvent): string | null {
  if (e.event === 'sys_enter_socket') return null;
  if (e.event === 'kfree_skb') return e.tupleInferred === true ? e.daddr : null;
  return e.saddr;
}

export class EventMatcher {
  private readonly ports: Set<number> | null;
  private readonly hosts: Set<string> | null;
  private readonly pids: Set<number> | null;
  private readonly comms: Set<string> | null;
  private readonly reasons: Set<string> | null;
  private readonly netnsInode: number | null;
  /** The namespace's own addresses (loopback left out); null until read, or when they cannot be. */
  private netnsAddrs: Set<string> | null = null;
  private readonly nsCache = new Map<number, { ino: number | null; at: number }>();
  private readonly comms_ = new Map<number, string>();

  constructor(filter: TraceFilter = {}) {
    this.ports = filter.ports && filter.ports.length > 0 ? new Set(filter.ports) : null;
    this.hosts = filter.hosts && filter.hosts.length > 0 ? new Set(filter.hosts.map(canonicalHost)) : null;
    this.pids = filter.pids && filter.pids.length > 0 ? new Set(filter.pids) : null;
    this.comms = filter.comms && filter.comms.length > 0 ? new Set(filter.comms.map((c) => c.slice(0, 15))) : null;
    this.reasons = filter.reasons && filter.reasons.length > 0 ? new Set(filter.reasons.map((r) => r.toUpperCase())) : null;
    this.netnsInode = filter.netnsInode ?? null;
  }

  /** True when a filter on the tuple is active (events without a tuple cannot match it). */
  get filtersTuple(): boolean {
    return this.ports !== null || this.hosts !== null;
  }

  get filtersNetns(): boolean {
    return this.netnsInode !== null;
  }

  matches(e: KernelEvent): boolean {
    if (e.comm === '<...>' && e.pid > 0) e.comm = this.commOf(e.pid) ?? e.comm;
    if (this.reasons !== null && (e.reason === null || !this.reasons.has(e.reason))) return false;
    if (this.ports !== null && !((e.sport !== null && this.ports.has(e.sport)) || (e.dport !== null && this.ports.has(e.dport)))) return false;
    if (this.hosts !== null && !((e.saddr !== null && this.hosts.has(canonicalHost(e.saddr))) || (e.daddr !== null && this.hosts.has(canonicalHost(e.daddr))))) return false;
    if (this.pids !== null && !this.pids.has(e.pid)) return false;
    if (this.comms !== null && !this.comms.has(e.comm)) return false;
    if (this.netnsInode !== null) {
      if (!this.inNetns(e)) return false;
      e.netnsInode = this.netnsInode;
    }
    return true;
  }

  /**
   * Sets the addresses of the filtered namespace. Null (the default): unknown, and every event is
   * attributed by its task's namespace, as before addresses were used.
   */
  setNetnsAddresses(addrs: readonly string[] | null): void {
    this.netnsAddrs = addrs === null ? null : new Set(addrs.map(ownedForm).filter((a) => !sharedAddress(a)));
  }

  /**
   * Whether an event belongs to the filtered namespace. tracefs events carry no namespace: the
   * task in the header is the only hint, and it is the owner only when the event ran in that
   * task's own context with a socket. An event raised in softirq (a segment that arrived: an RST
   * for it, a drop, a retransmission timer) or a reset sent without a socket ran in whatever
   * task the interrupt borrowed, which can be in any namespace (two namespaces joined by veth:
   * the sender's task processes the receiver's input). Those are attributed by their local
   * address instead; loopback addresses exist in every namespace, and there the borrowed task is
   * kept as the best hint (loopback packets are processed in the sending task's softirq, which is
   * in the same namespace); without any address they are left out.
   */
  private inNetns(e: KernelEvent): boolean {
    // Addresses unknown (not read, or not readable): the task is the only hint (a note says so).
    if (this.netnsAddrs === null) return this.netnsOf(e.pid) === this.netnsInode;
    const borrowed = e.context !== 'task' || e.noSocket === true;
    const raw = localAddress(e);
    const local = raw === null ? null : ownedForm(raw);
    const distinctive = local !== null && !sharedAddress(local);
    if (distinctive && this.netnsAddrs?.has(local) === true) return true;
    if (borrowed && (local === null || distinctive)) return false;
    return this.netnsOf(e.pid) === this.netnsInode;
  }

  /**
   * The network namespace inode of a process. Cached: a process that has exited since (a client
   * whose connect failed exits within milliseconds) keeps the namespace it was last seen in.
   */
  netnsOf(pid: number): number | null {
    if (pid <= 0) return null;
    const now = Date.now();
    const hit = this.nsCache.get(pid);
    if (hit !== undefined && now - hit.at < 1000) return hit.ino;
    const ino = readNetnsInode(pid);
    if (ino === null) return hit?.ino ?? null;
    this.remember(pid, ino, now);
    return ino;
  }

  /** Records the namespace of every process now running (call it often while filtering by namespace). */
  scanAll(): void {
    const now = Date.now();
    let names: string[];
    try {
      names = readdirSync('/proc');
    } catch {
      return;
    }
    for (const n of names) {
      const c = n.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(n);
      const ino = readNetnsInode(pid);
      if (ino !== null) this.remember(pid, ino, now);
      if (ino !== null && ino === this.netnsInode && !this.comms_.has(pid)) {
        const comm = readComm(pid);
        if (comm !== null) this.comms_.set(pid, comm);
      }
    }
  }

  /**
   * The kernel prints "<...>" when a task's name fell out of its small pid→comm cache
   * (saved_cmdlines); the name is then read from /proc, or from what the namespace scan saw.
   */
  commOf(pid: number): string | null {
    const known = this.comms_.get(pid);
    if (known !== undefined) return known;
    const comm = readComm(pid);
    if (comm !== null) {
      if (this.comms_.size > 10_000) this.comms_.clear();
      this.comms_.set(pid, comm);
    }
    return comm;
  }

  private remember(pid: number, ino: number, at: number): void {
    if (this.nsCache.size > 100_000) this.nsCache.clear();
    this.nsCache.set(pid, { ino, at });
  }
}

function readComm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return null;
  }
}

function readNetnsInode(pid: number): number | null {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m === null ? null : Number(m[1]);
  } catch {
    return null; // the process has exited, or we may not look
  }
}

export interface NetnsRef {
  inode: number;
  /** A file that is the namespace: /run/netns/NAME or /proc/PID/ns/net. */
  path: string;
  /** Its "ip netns" name, when it has one. */
  name?: string;
}

const NETNS_HINT = 'give a name from "ip netns list", a path like /proc/PID/ns/net, pid:PID, or an inode number';

/**
 * A network namespace named as `ip netns` names it (/run/netns/NAME), a path to a namespace file
 * (/proc/PID/ns/net), "pid:PID", or an inode number (looked up among the named namespaces and
 * those of running processes) → its inode and a path to it. A namespace that does not exist is a
 * usage error (TSL_ERR_USAGE), never an empty trace.
 */
export async function resolveNetnsRef(spec: string): Promise<NetnsRef> {
  if (/^\d+$/.test(spec)) {
    const found = await findNetns(Number(spec));
    if (found === null) throw new TsleuthError('TSL_ERR_USAGE', `--netns ${spec}: no network namespace has inode ${spec} (none in /run/netns, no process in one; ${NETNS_HINT})`);
    return found;
  }
  let path: string;
  if (spec.startsWith('pid:')) path = `/proc/${spec.slice(4)}/ns/net`;
  else if (spec.includes('/')) path = spec;
  else path = `/run/netns/${spec}`;
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new TsleuthError('TSL_ERR_USAGE', `--netns ${JSON.stringify(spec)}: no network namespace at ${path} (${NETNS_HINT})`);
  }
  let ns: string | null = null;
  try {
    ns = readlinkSync(path);
  } catch {
    // a bind mount (/run/netns/NAME) is not a link: checked below by its inode
  }
  if (ns !== null && !/^net:\[\d+\]$/.test(ns)) throw new TsleuthError('TSL_ERR_USAGE', `--netns ${JSON.stringify(spec)}: ${path} is not a network namespace (${NETNS_HINT})`);
  const named = path.startsWith('/run/netns/') ? path.slice('/run/netns/'.length) : undefined;
  return { inode: st.ino, path, ...(named === undefined ? {} : { name: named }) };
}

/** The inode of a network namespace given as resolveNetnsRef takes it. */
export async function resolveNetns(spec: string): Promise<number> {
  return (await resolveNetnsRef(spec)).inode;
}

/** A named namespace (/run/netns) or a process's namespace with this inode; null when there is none. */
export async function findNetns(inode: number): Promise<NetnsRef | null> {
  for (const name of await readdir('/run/netns').catch(() => [] as string[])) {
    try {
      if ((await stat(`/run/netns/${name}`)).ino === inode) return { inode, path: `/run/netns/${name}`, name };
    } catch {
      // removed meanwhile
    }
  }
  for (const n of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(n)) continue;
    if (readNetnsInode(Number(n)) === inode) return { inode, path: `/proc/${n}/ns/net` };
  }
  return null;
}

/**
 * The addresses configured in a network namespace (`ip -j addr` run inside it with nsenter, or
 * `ip -n NAME`); null when they cannot be read.
 */
export async function readNetnsAddresses(ref: NetnsRef): Promise<string[] | null> {
  const attempts: [string, string[]][] = [['nsenter', [`--net=${ref.path}`, 'ip', '-j', 'addr', 'show']]];
  if (ref.name !== undefined) attempts.push(['ip', ['-n', ref.name, '-j', 'addr', 'show']]);
  for (const [cmd, args] of attempts) {
    try {
      const { stdout } = await execFileP(cmd, args, { encoding: 'utf8', timeout: 5000 });
      const links = JSON.parse(stdout) as { addr_info?: { local?: string }[] }[];
      return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local).filter((a): a is string => typeof a === 'string'));
    } catch {
      // try the next way
    }
  }
  return null;
}
