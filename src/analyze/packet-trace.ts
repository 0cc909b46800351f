/**
 * The packet-by-packet view of one connection (--connection ID): every segment with direction,
 * flags and sequence numbers relative to each side's initial sequence number.
 */
import { TH_ACK, TH_SYN, type PacketView } from '../dissect/packet.js';
import { flagString, parseTcpOptions } from '../dissect/tcp.js';
import type { Connection } from '../tcp/connection.js';
import { TWO_POW_32 } from '../tcp/seq.js';

export interface PacketRow {
  frame: number;
  ts: number;
  /** true: originator → responder (as the roles stood when the connection ended). */
  fromOrig: boolean;
  flags: string;
  relSeq: number;
  relAck: number | null;
  len: number;
  /** The window field as sent; the receiver uses window << windowShift. */
  window: number;
  windowShift: number;
  ttl: number;
  ipId: number;
  options: string;
  icmp: string | null;
}

function rel(seq: number, base: number): number {
  return (seq - base + TWO_POW_32) % TWO_POW_32;
}

function describeOptions(v: PacketView): string {
  if (v.tcpHeaderLen <= 20) return '';
  const o = parseTcpOptions(v.data, v.tcpOffset, v.tcpHeaderLen);
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
  if (o.windowScale !== undefined) parts.push(`wscale ${o.windowScale}`);
  if (o.sackPermitted) parts.push('sackOK');
  if (o.sack) parts.push(`sack ${o.sack.length}`);
  if (o.tsVal !== undefined) parts.push(`TS ${o.tsVal}:${o.tsEcr}`);
  for (const u of o.unknown ?? []) parts.push(`opt-${u.kind}/${u.length}`);
  if (o.malformed) parts.push('bad-options');
  return parts.join(',');
}

/** Collects the packets of one connection id; raw sequence numbers are made relative at the end. */
export class PacketTrace {
  readonly rows: PacketRow[] = [];
  private readonly raw: Array<{ seq: number; ack: number; hasAck: boolean; syn: boolean; srcPort: number; s3: number }> = [];
  readonly connectionId: number;

  constructor(connectionId: number) {
    this.connectionId = connectionId;
  }

  add(v: PacketView, c: Connection, icmp: boolean): void {
    this.raw.push({ seq: v.seq, ack: v.ack, hasAck: (v.flags & TH_ACK) !== 0, syn: (v.flags & TH_SYN) !== 0, srcPort: v.srcPort, s3: v.src3 });
    this.rows.push({
      frame: v.frame,
      ts: v.ts,
      fromOrig: c.isFromOrig(v.src0, v.src1, v.src2, v.src3, v.srcPort),
      flags: icmp ? '' : flagString(v.flags),
      relSeq: v.seq,
      relAck: null,
      len: icmp ? 0 : v.payloadLen,
      window: icmp ? 0 : v.window,
      windowShift: 0,
      ttl: v.ttl,
      ipId: v.ipId,
      options: icmp ? '' : describeOptions(v),
      icmp: icmp ? `ICMP type ${v.icmpType} code ${v.icmpCode}` : null,
    });
  }

  /**
   * Makes sequence numbers relative to each side's ISN, fixes directions to the final roles, and
   * scales the windows of non-SYN segments by the shift the sender negotiated (RFC 7323).
   */
  finish(c: Connection): PacketRow[] {
    const origIsn = c.orig.startSeq;
    const respIsn = c.resp.startSeq;
    this.rows.forEach((row, i) => {
      const r = this.raw[i]!;
      row.fromOrig = r.srcPort === c.origPort && r.s3 === c.origA3;
      row.relSeq = rel(r.seq, row.fromOrig ? origIsn : respIsn);
      row.relAck = r.hasAck ? rel(r.ack, row.fromOrig ? respIsn : origIsn) : null;
      row.windowShift = r.syn ? 0 : (row.fromOrig ? c.orig : c.resp).windowScale;
    });
    return this.rows;
  }
}
