/**
 * Which kernel events a trace keeps: ports, hosts, processes, network namespace, reasons.
 *
 * Address matching happens here, in user space: tracefs filters cannot match the address
 * arrays (`__u8 saddr[28]`), and tcp_send_reset carries its tuple only in such arrays. Ports
 * are additionally pushed into the kernel for events with scalar sport/dport fields (see
 * tracer.ts), which only removes work, never events this filter would keep.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { TsleuthError } from '../errors.js';
import type { KernelEvent } from './trace-events.js';

export interface TraceFilter {
  /** Keep events with one of these ports at either end. */
  ports?: number[];
  /** Keep events with one of these addresses at either end (IPv4 or IPv6 text). */
  hosts?: string[];
  /** Keep events whose task belongs to one of these processes (thread group ids). */
  pids?: number[];
  /** Keep events whose task has one of these names (comm, at most 15 bytes). */
  comms?: string[];
  /** Keep events whose task is in this network namespace (its inode number, see resolveNetns). */
  netnsInode?: number;
  /** Keep only events with one of these reason names (sk_rst_reason / skb_drop_reason). */
  reasons?: string[];
}

/** Canonical text of an address so "::ffff:127.0.0.1", "0:0::1" and "::1" compare as the kernel prints them. */
function canonicalHost(h: string): string {
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

export class EventMatcher {
  private readonly ports: Set<number> | null;
  private readonly hosts: Set<string> | null;
  private readonly pids: Set<number> | null;
  private readonly comms: Set<string> | null;
  private readonly reasons: Set<string> | null;
  private readonly netnsInode: number | null;
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
      const ino = this.netnsOf(e.pid);
      if (ino !== null) e.netnsInode = ino;
      if (ino !== this.netnsInode) return false;
    }
    return true;
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

/**
 * A network namespace named as `ip netns` names it (/run/netns/NAME), a path to a namespace file
 * (/proc/PID/ns/net), or "pid:PID" → its inode number.
 */
export async function resolveNetns(spec: string): Promise<number> {
  let path: string;
  if (/^\d+$/.test(spec)) return Number(spec);
  if (spec.startsWith('pid:')) path = `/proc/${spec.slice(4)}/ns/net`;
  else if (spec.includes('/')) path = spec;
  else path = `/run/netns/${spec}`;
  try {
    return (await stat(path)).ino;
  } catch {
    throw new TsleuthError('TSL_ERR_USAGE', `--netns ${JSON.stringify(spec)}: no network namespace at ${path} (give a name from "ip netns list", a path like /proc/PID/ns/net, pid:PID, or an inode number)`);
  }
}
