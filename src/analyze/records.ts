/**
 * What `analyze` produces: one record per connection, then one summary. These objects are the
 * JSON Lines schema (docs/json-schema.md); change them only together with its version.
 */
import { formatAddress } from '../dissect/packet.js';
import type { Connection } from '../tcp/connection.js';
import { type ConnState, connState } from '../tcp/conn-state.js';
import { ENDPOINT_STATE_NAMES, type Endpoint } from '../tcp/endpoint.js';
import type { EndReason } from '../tcp/tracker.js';

export const SCHEMA_VERSION = 1;

export interface EndpointAddress {
  addr: string;
  port: number;
}

/** One socket call of an application and what it returns after the event (errno null: it succeeds, or returns 0 at end of stream). */
export interface CallOutcome {
  readonly call: string;
  readonly errno: string | null;
  /** When the outcome holds ("after the first call reported the error", ...). */
  readonly note?: string;
}

/**
 * A diagnosis (src/diagnose, docs/diagnosis.md). The first eight fields are the contract of
 * issue 5; the optional ones are always filled by tcpsleuth's rules and may be absent in
 * findings from elsewhere.
 */
export interface Finding {
  /** What happened: refused, reset, connect-timeout, half-close-stall, ... (docs/diagnosis.md). */
  kind: string;
  /** Who did it: a side, or "network" (nobody answered, a middlebox, the path). */
  by: 'orig' | 'resp' | 'network';
  /** The kernel's enum name (sk_rst_reason: NO_SOCKET, TCP_ABORT_ON_CLOSE, ...), UNKNOWN when the wire cannot tell, NONE when no RST is involved. */
  reason: string;
  /** 0..1: how sure the wire makes us (docs/diagnosis.md, "confidence"). */
  confidence: number;
  /** The frames that show it (1-based, as Wireshark numbers them). */
  frames: number[];
  /** The errno each side's application gets from its next call (null: none). */
  errno: { orig: string | null; resp: string | null };
  summary: string;
  advice: string;
  /** The acting side's TCP state just before, inferred from the wire (kernel names: TCP_ESTABLISHED, ...). */
  state?: string | null;
  /** Reasons the wire cannot rule out (the chosen one first); for UNKNOWN, the possibilities. */
  candidates?: string[];
  /** Per side: the calls that report it, in order (read-only: lists are shared between findings). */
  calls?: { orig: readonly CallOutcome[]; resp: readonly CallOutcome[] };
  /** Epoch seconds of the first frame of evidence. */
  time?: number;
  /** Text an RST carried as payload (RFC 1122 §4.2.2.12 reset cause), escaped; null when none. */
  rst_text?: string | null;
  /** Ids of earlier connection records whose story this finding continues (a connect attempt Zeek's attempt timer split into several records); absent otherwise. */
  continues?: number[];
}

/**
 * What one side sent, counted per direction from the wire: network loss (retransmissions),
 * reordering, the receiver's windows, and capture loss kept apart from network loss.
 */
export interface DirectionStats {
  /** Segments whose payload lay at or below the highest sequence already sent: retransmissions (network loss), or the late half of a reordering. */
  retrans_segs: number;
  retrans_bytes: number;
  /** Segments that started beyond the highest sequence sent so far (a hole opened): reordering, or loss before the capture point. */
  out_of_order_segs: number;
  /** Segments advertising a zero window: this side's receive buffer was full (its application was not reading). */
  zero_window_segs: number;
  /** Segments that filled the peer's advertised window to its right edge (Wireshark's "TCP Window Full"). */
  window_full_segs: number;
  /** Bytes of this side the peer acknowledged that the capture never showed (capture loss, not network loss). */
  missed_bytes: number;
}

export interface ConnectionRecord {
  type: 'connection';
  version: number;
  id: number;
  orig: EndpointAddress;
  resp: EndpointAddress;
  ip_version: 4 | 6;
  /** Tunnel layers unwrapped to reach the TCP packets (0 = none). */
  tunnel_depth: number;
  /** Epoch seconds (microsecond precision) of the first and last packet. */
  first: number;
  last: number;
  /** Zeek's duration; null when 0 (Zeek leaves it unset). */
  duration: number | null;
  conn_state: ConnState;
  history: string;
  orig_pkts: number;
  resp_pkts: number;
  /** Payload bytes from sequence numbers; null when duration is 0, as in Zeek. */
  orig_bytes: number | null;
  resp_bytes: number | null;
  missed_bytes: number;
  orig_ip_bytes: number;
  resp_ip_bytes: number;
  /** Zeek's endpoint states at the end (TCP_ENDPOINT_* names without the prefix). */
  orig_state: string;
  resp_state: string;
  /** Frame numbers (1-based, as Wireshark numbers them) of the connection's first and last packet. */
  packets: { first: number; last: number };
  /** Why the connection record was closed: a timer ran out, the 4-tuple was reused, or the capture ended. */
  end_reason: EndReason;
  /** Protocol oddities Zeek would report as "weird". */
  weirds: string[];
  /** ICMP errors that quoted one of this connection's segments. */
  icmp: { count: number; first_frame: number; type: number; code: number } | null;
  /** Per direction, what each side sent; null when every counter is 0 (most connections). */
  stats: { orig: DirectionStats; resp: DirectionStats } | null;
  findings: Finding[];
}

export interface SummaryRecord {
  type: 'summary';
  version: number;
  file: string;
  format: 'pcap' | 'pcapng' | null;
  compressed: boolean;
  frames: number;
  bytes: number;
  link_types: Record<string, { name: string; frames: number }>;
  tcp_segments: number;
  /** With --verify-checksums: segments dropped for a bad TCP checksum (history letter C/c). */
  bad_checksum_segments: number;
  /** Segments that were copies of one captured on another interface (`-i any` on a bridge or router): counted once. */
  capture_copies: number;
  connections: number;
  conn_states: Partial<Record<ConnState, number>>;
  icmp_errors: { attributed: number; unmatched: number };
  non_tcp_frames: number;
  /** Frames that could not be dissected, by reason. */
  malformed: Record<string, number>;
  /** Frames cut short by the capture's snaplen. */
  snaplen_truncated_frames: number;
  /** Non-fatal faults of the file structure, by reason. */
  capture_faults: Record<string, number>;
  first: number | null;
  last: number | null;
  peak_live_connections: number;
  /** Reading was stopped on request (Ctrl-C) before the end of the input. */
  interrupted: boolean;
  /** The fatal fault that stopped reading, if any; everything before it is reported. */
  error: { code: string; message: string; offset: number | null; frame: number | null } | null;
  /**
   * Present when `analyze --interface` ran tcpdump itself: the interface, the capture filter, and
   * tcpdump's counts (null when it printed none). Packets dropped by the kernel never reached the
   * capture: connections missing them look incomplete through no fault of the network.
   */
  live?: { interface: string; filter: string; captured: number | null; received_by_filter: number | null; dropped_by_kernel: number | null };
  /**
   * Present when several files were read as one capture (a rotated capture): each file, in the
   * order read (of their first packets); `file`, `format` and `compressed` above are those of the
   * first file with frames.
   */
  files?: Array<{
    file: string;
    format: 'pcap' | 'pcapng' | null;
    compressed: boolean;
    frames: number;
    bytes: number;
    /** What stopped this file (its offset and frame count within it); the next file was read. */
    error: SummaryRecord['error'];
  }>;
}

export type AnalysisRecord = ConnectionRecord | SummaryRecord;

function directionStats(e: Endpoint): DirectionStats {
  const r = e.ev.rare;
  return {
    retrans_segs: r === null ? 0 : r.rexmits,
    retrans_bytes: r === null ? 0 : r.rexmitBytes,
    out_of_order_segs: r === null ? 0 : r.seqJumps,
    zero_window_segs: r === null ? 0 : r.zeroWindows,
    window_full_segs: r === null ? 0 : r.windowFull,
    missed_bytes: e.missedBytes,
  };
}

/** Whether a side has anything to count: what it sent unusually lives in its RareEvidence. */
function hasStats(e: Endpoint): boolean {
  const r = e.ev.rare;
  return e.missedBytes !== 0 || (r !== null && (r.rexmits !== 0 || r.seqJumps !== 0 || r.zeroWindows !== 0 || r.windowFull !== 0));
}

function micro(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

export function toConnectionRecord(c: Connection, reason: EndReason, findings: Finding[] = [], state: ConnState = connState(c)): ConnectionRecord {
  const duration = c.lastTime - c.startTime;
  const hasDuration = duration > 0;
  const v4 = c.origA0 === 0 && c.origA1 === 0 && c.origA2 === 0xffff;
  return {
    type: 'connection',
    version: SCHEMA_VERSION,
    id: c.id,
    orig: { addr: formatAddress(c.origA0, c.origA1, c.origA2, c.origA3), port: c.origPort },
    resp: { addr: formatAddress(c.respA0, c.respA1, c.respA2, c.respA3), port: c.respPort },
    ip_version: v4 ? 4 : 6,
    tunnel_depth: c.tunnelDepth,
    first: micro(c.startTime),
    last: micro(c.lastPacketTime),
    duration: hasDuration ? micro(duration) : null,
    conn_state: state,
    history: c.history,
    orig_pkts: c.orig.pkts,
    resp_pkts: c.resp.pkts,
    orig_bytes: hasDuration ? c.orig.size(c.resp) : null,
    resp_bytes: hasDuration ? c.resp.size(c.orig) : null,
    missed_bytes: c.missedBytes,
    orig_ip_bytes: c.orig.ipBytes,
    resp_ip_bytes: c.resp.ipBytes,
    orig_state: ENDPOINT_STATE_NAMES[c.orig.state],
    resp_state: ENDPOINT_STATE_NAMES[c.resp.state],
    packets: { first: c.firstFrame, last: c.lastFrame },
    end_reason: reason,
    weirds: c.weirds === null ? [] : [...c.weirds],
    icmp: c.icmpErrors === 0 ? null : { count: c.icmpErrors, first_frame: c.icmpFirstFrame, type: c.icmpType, code: c.icmpCode },
    stats: hasStats(c.orig) || hasStats(c.resp) ? { orig: directionStats(c.orig), resp: directionStats(c.resp) } : null,
    findings,
  };
}
