/**
 * trace_pipe lines → typed KernelEvent objects.
 *
 * A line is the kernel's header (task, tgid with the record-tgid option, CPU, flags, timestamp)
 * followed by the event rendered with its print fmt:
 *
 *   bash-14151   (  14151) [001] ..s1.  1041.634059: tcp_send_reset: skbaddr=00000000ce610738 skaddr=0000000000000000 src=127.0.0.1:9 dest=127.0.0.1:58030 state=UNKNOWN reason=NO_SOCKET
 *   bash-14151   (  14151) [001] ..s1.  1041.634069: kfree_skb: skbaddr=00000000ce610738 rx_sk=0000000000000000 protocol=2048 location=tcp_v4_rcv+0x91/0x13f0 reason: NO_SOCKET
 *   bash-18266   (  18266) [000] .....  1158.259123: sys_socket(family: 2, type: 1, protocol: 6)
 *   bash-18266   (  18266) [000] ..s1.  1158.261598: <stack trace>
 *    => tcp_v4_send_reset
 *   CPU:1 [LOST 1234 EVENTS]
 *
 * The flags column is irqs-off, need-resched, hardirq/softirq, preempt-depth, migrate-disable;
 * its third character says whether the event fired in interrupt context, in which case the task
 * in the header is only whatever happened to be running on that CPU.
 *
 * Symbolic fields (reason, state, family) arrive as the names the kernel's print fmt gave them;
 * the event's parsed format file turns a name back into this kernel's enum value (`reasonCode`)
 * and tells which fields this kernel has at all.
 */
import { errnoName } from './errno.js';
import type { EventFormat } from './event-format.js';

export type KernelEventName =
  | 'tcp_send_reset'
  | 'tcp_receive_reset'
  | 'kfree_skb'
  | 'tcp_retransmit_skb'
  | 'tcp_retransmit_synack'
  | 'inet_sock_set_state'
  | 'inet_sk_error_report'
  | 'sys_enter_socket';

export type Family = 'AF_INET' | 'AF_INET6';

/** Where the event fired: in a task's own context, or in an interrupt that borrowed a task. */
export type ExecContext = 'task' | 'softirq' | 'hardirq' | 'nmi';

export interface KernelEvent {
  /** Wall-clock time, seconds since the epoch (from the instance's monotonic trace clock). */
  ts: number;
  /** The trace clock's own timestamp, seconds (CLOCK_MONOTONIC when the "mono" clock is available). */
  traceTs: number;
  event: KernelEventName;
  cpu: number;
  family: Family | null;
  /** The tuple as the event sees it: for tcp_send_reset, src is the RST's source (the local end). */
  saddr: string | null;
  sport: number | null;
  daddr: string | null;
  dport: number | null;
  /** TCP state name (TCP_ESTABLISHED, ...); for inet_sock_set_state the new state. Null when none. */
  state: string | null;
  /** inet_sock_set_state only: the state before. */
  oldState?: string;
  /** enum sk_rst_reason (tcp_send_reset) or enum skb_drop_reason (kfree_skb) name. Null when the event has none. */
  reason: string | null;
  /** The reason's value in this kernel's enum, read from the event's format file. */
  reasonCode?: number;
  /** inet_sk_error_report: the error the application will see (positive errno); tcp_retransmit_skb: err. */
  errno?: number;
  errnoName?: string;
  /** Thread group id (the process id) of the task that was current; 0 for the idle task. */
  pid: number;
  /** Thread id of that task. */
  tid: number;
  /** Its comm, exactly as the kernel printed it (escape before printing to a terminal). */
  comm: string;
  context: ExecContext;
  /**
   * False when pid/comm cannot be trusted as the owner of the connection: the event fired in
   * interrupt context (the task merely happened to be running), or the reset was sent for a
   * segment that matched no socket.
   */
  processIsOwner: boolean;
  /** tcp_send_reset: true when no socket was involved (skaddr is NULL, e.g. NO_SOCKET). */
  noSocket?: boolean;
  /** kfree_skb: the function that dropped the packet (symbol+offset/size). */
  location?: string;
  /** kfree_skb: skb->protocol (an EtherType: 0x0800 IPv4, 0x86dd IPv6). */
  protocol?: number;
  /** Kernel pointers as printed (hashed by %p): they match between events of one boot. */
  skbaddr?: string;
  skaddr?: string;
  /** kfree_skb: the receiving socket, when the kernel knows it. */
  rxSk?: string;
  /** tcp_receive_reset: the socket's cookie (the value sock_diag reports as idiag_cookie). */
  sockCookie?: string;
  /** Inode of the network namespace of the task (filled in when namespace filtering is on). */
  netnsInode?: number;
  /** Not available from tracefs events (no field carries it); reserved for a BPF backend. */
  netnsCookie?: string;
  /** sys_enter_socket: the arguments. */
  socket?: { family: number; type: number; protocol: number };
  /** Kernel stack, innermost first (with the stacktrace option). */
  stack?: string[];
  /** True when the tuple was not in the event and was taken from a related event (kfree_skb ← tcp_send_reset). */
  tupleInferred?: boolean;
}

export type TraceLine =
  | { kind: 'event'; event: KernelEvent }
  | { kind: 'stack' }
  | { kind: 'frame'; frame: string }
  | { kind: 'lost'; cpu: number; count: number }
  | { kind: 'unknown-event'; name: string }
  | { kind: 'other'; text: string };

/**
 * The header: the kernel prints `%16s-%-7d` (comm right-aligned in at least 16 bytes, then the
 * pid), the tgid with record-tgid, `[CPU]`, the flags and the timestamp. The comm field keeps its
 * padding here: its width tells a complete header from the tail of a comm that held a newline.
 */
const HEADER_RE = /^(.*)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(\S+)\s+(\d+\.\d+):\s(.*)$/;
/** The comm field's width: TASK_COMM_LEN (16, with the NUL), the %16s of the header. */
const COMM_FIELD_BYTES = 16;
const LOST_RE = /^CPU:(\d+) \[LOST (\d+) EVENTS\]/;

function contextOf(flags: string): ExecContext {
  const c = flags.length >= 3 ? flags[2] : '.';
  if (c === 's') return 'softirq';
  if (c === 'h' || c === 'H') return 'hardirq';
  if (c === 'z' || c === 'Z') return 'nmi';
  return 'task';
}

/** Splits "a=1 b=2 reason: X" and "family: 2, type: 1" into a record. */
export function parseKeyValues(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  const toks = body.split(' ');
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === '') continue;
    const eq = t.indexOf('=');
    if (eq > 0) {
      out[t.slice(0, eq)] = t.slice(eq + 1);
    } else if (t.endsWith(':') && i + 1 < toks.length) {
      out[t.slice(0, -1)] = toks[++i]!.replace(/,$/, '');
    }
  }
  return out;
}

/** "127.0.0.1:9" or "[::1]:9" (the kernel's %pISpc) → address and port. */
export function splitSockaddr(s: string | undefined): { addr: string; port: number; family: Family } | null {
  if (s === undefined) return null;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    return { addr: s.slice(1, end), port: Number(s.slice(end + 2)), family: 'AF_INET6' };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) return null;
  return { addr: s.slice(0, colon), port: Number(s.slice(colon + 1)), family: 'AF_INET' };
}

function numberOrNull(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : null;
}

function isNullPointer(p: string | undefined): boolean {
  return p !== undefined && /^(0x)?0+$/.test(p);
}

function stateOrNull(s: string | undefined): string | null {
  if (s === undefined || s === 'UNKNOWN') return null;
  return s;
}

/** Maps the event name printed in a line to the tracefs event (syscalls print "sys_socket(...)"). */
const SYSCALL_EVENTS: Record<string, KernelEventName> = { sys_socket: 'sys_enter_socket' };

export class TraceLineParser {
  private readonly formats: Map<string, EventFormat>;
  /** Added to the trace clock to get wall-clock seconds. */
  private readonly epochOffset: number;

  constructor(formats: Map<string, EventFormat>, epochOffset: number) {
    this.formats = formats;
    this.epochOffset = epochOffset;
  }

  /**
   * Lines short enough to be the start of a comm that held a newline (a task can name itself
   * anything: prctl(PR_SET_NAME), /proc/self/comm), kept until the next header.
   */
  private held: string[] = [];

  parse(line: string): TraceLine {
    const m = line.startsWith(' => ') ? null : HEADER_RE.exec(line);
    if (m === null) {
      this.hold(line);
      if (line.startsWith(' => ')) return { kind: 'frame', frame: line.slice(4).trim() };
      const lost = LOST_RE.exec(line);
      if (lost !== null) return { kind: 'lost', cpu: Number(lost[1]), count: Number(lost[2]) };
      return { kind: 'other', text: line };
    }
    const comm = this.commOf(m[1]!);
    this.held = [];
    const rest = m[7]!;
    if (rest === '<stack trace>') return { kind: 'stack' };
    let name: string;
    let body: string;
    const colon = rest.indexOf(': ');
    const paren = rest.indexOf('(');
    if (paren > 0 && (colon < 0 || paren < colon) && rest.endsWith(')')) {
      name = SYSCALL_EVENTS[rest.slice(0, paren)] ?? rest.slice(0, paren);
      body = rest.slice(paren + 1, -1);
    } else if (colon > 0) {
      name = rest.slice(0, colon);
      body = rest.slice(colon + 2);
    } else {
      return { kind: 'other', text: line };
    }
    const tid = Number(m[2]);
    const tgid = m[3] !== undefined && /^\d+$/.test(m[3]) ? Number(m[3]) : tid;
    const traceTs = Number(m[6]);
    const context = contextOf(m[5]!);
    const event: KernelEvent = {
      ts: traceTs + this.epochOffset,
      traceTs,
      event: name as KernelEventName,
      cpu: Number(m[4]),
      family: null,
      saddr: null,
      sport: null,
      daddr: null,
      dport: null,
      state: null,
      reason: null,
      pid: tgid,
      tid,
      comm,
      context,
      processIsOwner: context === 'task' && tgid !== 0,
    };
    if (!this.fill(event, parseKeyValues(body))) return { kind: 'unknown-event', name };
    return { kind: 'event', event };
  }

  private hold(line: string): void {
    if (Buffer.byteLength(line) >= COMM_FIELD_BYTES) {
      this.held = [];
      return;
    }
    this.held.push(line);
    if (this.held.length > COMM_FIELD_BYTES) this.held.shift();
  }

  /**
   * The comm of a header. A complete header's comm field is at least 16 bytes wide (padding
   * included); a narrower one is the end of a comm that held newlines, whose start came on the
   * lines before: joined back, the field is 16 bytes again. When those lines are missing the
   * name is unknown ("<...>", as the kernel says when it has no name), never the fragment, so
   * "x\nsshd" cannot pass for "sshd".
   */
  private commOf(field: string): string {
    if (Buffer.byteLength(field) >= COMM_FIELD_BYTES) return field.trimStart();
    let joined = field;
    for (let k = this.held.length - 1; k >= 0; k--) {
      joined = `${this.held[k]}\n${joined}`;
      if (Buffer.byteLength(joined) >= COMM_FIELD_BYTES) return joined.trimStart();
    }
    return '<...>';
  }

  private reasonCode(event: string, reason: string): number | undefined {
    if (reason.startsWith('0x')) return Number.parseInt(reason, 16);
    const v = this.formats.get(event)?.symbols.get('reason')?.byName.get(reason);
    return v ?? undefined;
  }

  private setReason(e: KernelEvent, reason: string | undefined): void {
    if (reason === undefined) return;
    e.reason = reason;
    const code = this.reasonCode(e.event, reason);
    if (code !== undefined) e.reasonCode = code;
  }

  private kvTuple(e: KernelEvent, kv: Record<string, string>): void {
    const fam = kv['family'];
    e.family = fam === 'AF_INET6' ? 'AF_INET6' : fam === 'AF_INET' ? 'AF_INET' : null;
    e.sport = numberOrNull(kv['sport']);
    e.dport = numberOrNull(kv['dport']);
    if (e.family === 'AF_INET6') {
      e.saddr = kv['saddrv6'] ?? null;
      e.daddr = kv['daddrv6'] ?? null;
    } else {
      e.saddr = kv['saddr'] ?? null;
      e.daddr = kv['daddr'] ?? null;
    }
  }

  /** Fills the event from its fields; false for an event this parser does not know. */
  private fill(e: KernelEvent, kv: Record<string, string>): boolean {
    switch (e.event) {
      case 'tcp_send_reset': {
        const src = splitSockaddr(kv['src']);
        const dst = splitSockaddr(kv['dest']);
        if (src !== null) {
          e.family = src.family;
          e.saddr = src.addr;
          e.sport = src.port;
        } else {
          // Kernels before 6.10 print sport/dport/saddr/daddr like the other tcp events.
          this.kvTuple(e, kv);
        }
        if (dst !== null) {
          e.daddr = dst.addr;
          e.dport = dst.port;
        }
        e.state = stateOrNull(kv['state']);
        this.setReason(e, kv['reason']);
        e.skbaddr = kv['skbaddr'];
        e.skaddr = kv['skaddr'];
        e.noSocket = isNullPointer(kv['skaddr']);
        if (e.noSocket) e.processIsOwner = false;
        return true;
      }
      case 'tcp_receive_reset':
        this.kvTuple(e, kv);
        if (kv['sock_cookie'] !== undefined) e.sockCookie = kv['sock_cookie'];
        if (kv['skaddr'] !== undefined) e.skaddr = kv['skaddr'];
        return true;
      case 'kfree_skb': {
        this.setReason(e, kv['reason']);
        e.skbaddr = kv['skbaddr'];
        if (kv['rx_sk'] !== undefined) e.rxSk = kv['rx_sk'];
        const proto = numberOrNull(kv['protocol']);
        if (proto !== null) {
          e.protocol = proto;
          if (proto === 0x0800) e.family = 'AF_INET';
          else if (proto === 0x86dd) e.family = 'AF_INET6';
        }
        if (kv['location'] !== undefined) e.location = kv['location'];
        return true;
      }
      case 'tcp_retransmit_skb':
      case 'tcp_retransmit_synack': {
        this.kvTuple(e, kv);
        e.state = stateOrNull(kv['state']);
        e.skaddr = kv['skaddr'];
        e.skbaddr = kv['skbaddr'];
        const err = numberOrNull(kv['err']);
        if (err !== null && err !== 0) {
          e.errno = -err;
          e.errnoName = errnoName(err);
        }
        if (e.event === 'tcp_retransmit_synack') e.state = 'TCP_SYN_RECV';
        return true;
      }
      case 'inet_sock_set_state':
        this.kvTuple(e, kv);
        e.state = stateOrNull(kv['newstate']);
        if (kv['oldstate'] !== undefined) e.oldState = kv['oldstate'];
        return true;
      case 'inet_sk_error_report': {
        this.kvTuple(e, kv);
        const err = numberOrNull(kv['error']);
        if (err !== null) {
          e.errno = err;
          e.errnoName = errnoName(err);
        }
        return true;
      }
      case 'sys_enter_socket':
        e.socket = {
          family: numberOrNull(kv['family']) ?? -1,
          type: numberOrNull(kv['type']) ?? -1,
          protocol: numberOrNull(kv['protocol']) ?? -1,
        };
        e.family = e.socket.family === 2 ? 'AF_INET' : e.socket.family === 10 ? 'AF_INET6' : null;
        return true;
      default:
        return false;
    }
  }
}

/**
 * Splits a byte stream into lines, keeping the partial last line for the next chunk. Decodes
 * as UTF-8 (comm may hold any bytes; they are escaped later, before a terminal sees them).
 */
export class LineSplitter {
  private partial = '';

  push(buf: Buffer, length: number, onLine: (line: string) => void): void {
    const text = this.partial + buf.toString('utf8', 0, length);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (nl > start) onLine(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }
}
