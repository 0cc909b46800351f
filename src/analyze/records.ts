/**
 * What `analyze` produces: one record per connection, then one summary. These objects are the
 * JSON Lines schema (docs/json-schema.md); change them only together with its version.
 */
import { formatAddress } from '../dissect/packet.js';
import type { Connection } from '../tcp/connection.js';
import { type ConnState, connState } from '../tcp/conn-state.js';
import { ENDPOINT_STATE_NAMES } from '../tcp/endpoint.js';
import type { EndReason } from '../tcp/tracker.js';

export const SCHEMA_VERSION = 1;

export interface EndpointAddress {
  addr: string;
  port: number;
}

/** A diagnosis of what went wrong (filled by the diagnosis layer; empty until then). */
export interface Finding {
  kind: string;
  by: 'orig' | 'resp' | 'network';
  reason: string;
  confidence: number;
  frames: number[];
  errno: { orig: string | null; resp: string | null };
  summary: string;
  advice: string;
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
  /** The fatal fault that stopped reading, if any; everything before it is reported. */
  error: { code: string; message: string; offset: number | null; frame: number | null } | null;
}

export type AnalysisRecord = ConnectionRecord | SummaryRecord;

function micro(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

export function toConnectionRecord(c: Connection, reason: EndReason): ConnectionRecord {
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
    conn_state: connState(c),
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
    findings: [],
  };
}
