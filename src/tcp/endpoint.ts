/**
 * One side of a TCP connection as seen from the wire, modelled on Zeek's TCP_Endpoint so that
 * conn_state, history and byte counts come out exactly as Zeek's conn.log has them.
 *
 * Sequence numbers are kept raw (32-bit) together with a wrap count; "relative" numbers count
 * from the initial sequence number (the SYN is relative 0, the first data byte relative 1).
 */
import { SideEvidence } from './evidence.js';
import { TWO_POW_32, u32 } from './seq.js';

/** Zeek's endpoint states (TCP_ENDPOINT_*), numbered as in init-bare.zeek. */
export const enum EndpointState {
  Inactive = 0,
  SynSent = 1,
  SynAckSent = 2,
  Partial = 3,
  Established = 4,
  Closed = 5,
  Reset = 6,
}

export const ENDPOINT_STATE_NAMES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'] as const;

export function isHandshakeState(s: EndpointState): boolean {
  return s === EndpointState.Inactive || s === EndpointState.SynSent || s === EndpointState.SynAckSent;
}

/** Inactive in the sense of conn_state(): nothing seen, or only mid-stream packets. */
export function isInactiveOrPartial(s: EndpointState): boolean {
  return s === EndpointState.Inactive || s === EndpointState.Partial;
}

export class Endpoint {
  // Connections are reused (Connection.begin): reset() makes an endpoint fresh again, and must
  // agree with the initial values here (test/tcp-reuse.test.ts).
  state: EndpointState = EndpointState.Inactive;
  prevState: EndpointState = EndpointState.Inactive;
  isOrig = false;

  startSeq = 0;
  lastSeq = 0;
  ackSeq = 0;
  seqWraps = 0;
  ackWraps = 0;

  windowScale = 0;
  /** 2^windowScale, kept so the per-packet path multiplies instead of exponentiating. */
  windowFactor = 1;
  window = 0;
  windowSeq = 0;
  windowAckSeq = 0;

  finCount = 0;
  rstCount = 0;
  /** Relative sequence number just past the FIN. */
  finSeq = 0;
  /** Zeek's did_close: this side's FIN or RST has been accounted as a close. */
  didClose = false;

  histLastSyn = 0;
  histLastFin = 0;
  histLastRst = 0;

  // Event counts behind the scaled history letters C, T, W and G.
  checksumErrors = 0;
  retransmissions = 0;
  zeroWindows = 0;
  gaps = 0;

  /** Packets and IP bytes of this direction (Zeek's ConnSize analyzer). */
  pkts = 0;
  ipBytes = 0;

  // Content tracking (a model of Zeek's TCP_Reassembler, positions only, no payload kept).
  /** Next relative sequence number expected in order. */
  reassemSeq = 1;
  /** Highest relative sequence the peer has acknowledged and we have trimmed to. */
  trimSeq = 1;
  /** Out-of-order ranges above a hole, as [seq0, upper0, seq1, upper1, ...], sorted (allocated on first need). */
  blocks: number[] | null = null;
  skipDeliveries = false;
  /** Bytes of this side the peer acknowledged that the capture never showed (its share of the connection's missed_bytes). */
  missedBytes = 0;

  /** What this side sent, for the diagnosis layer (tcpsleuth's own; not part of Zeek's model). */
  readonly ev = new SideEvidence();

  constructor(isOrig: boolean) {
    this.reset(isOrig);
  }

  /** Back to a side nothing has been seen from. */
  reset(isOrig: boolean): void {
    this.state = EndpointState.Inactive;
    this.prevState = EndpointState.Inactive;
    this.isOrig = isOrig;
    this.startSeq = 0;
    this.lastSeq = 0;
    this.ackSeq = 0;
    this.seqWraps = 0;
    this.ackWraps = 0;
    this.windowScale = 0;
    this.windowFactor = 1;
    this.window = 0;
    this.windowSeq = 0;
    this.windowAckSeq = 0;
    this.finCount = 0;
    this.rstCount = 0;
    this.finSeq = 0;
    this.didClose = false;
    this.histLastSyn = 0;
    this.histLastFin = 0;
    this.histLastRst = 0;
    this.checksumErrors = 0;
    this.retransmissions = 0;
    this.zeroWindows = 0;
    this.gaps = 0;
    this.pkts = 0;
    this.ipBytes = 0;
    this.reassemSeq = 1;
    this.trimSeq = 1;
    this.blocks = null;
    this.skipDeliveries = false;
    this.missedBytes = 0;
    this.ev.reset();
  }

  setWindowScale(shift: number): void {
    this.windowScale = shift;
    this.windowFactor = 2 ** shift;
  }

  updateLastSeq(seq: number): void {
    if (u32(seq) < u32(this.lastSeq)) this.seqWraps++;
    this.lastSeq = seq;
  }

  updateAckSeq(seq: number): void {
    if (u32(seq) < u32(this.ackSeq)) this.ackWraps++;
    this.ackSeq = seq;
  }

  toRelativeSeqSpace(seq: number, wraps: number): number {
    return wraps * TWO_POW_32 + u32(seq) - u32(this.startSeq);
  }

  /** True if the peer never acknowledged any of our data. */
  noDataAcked(): boolean {
    const ack = this.ackWraps * TWO_POW_32 + u32(this.ackSeq);
    const start = u32(this.startSeq);
    return ack === start || ack === start + 1;
  }

  /** Bytes of payload sent, from sequence numbers (Zeek's TCP_Endpoint::Size). */
  size(peer: Endpoint): number {
    if (this.prevState === EndpointState.SynSent && this.state === EndpointState.Reset && peer.state === EndpointState.Inactive && !this.noDataAcked()) {
      // A half-open connection discovered and aborted: its sequence numbers say nothing about data.
      return 0;
    }
    const last = this.seqWraps * TWO_POW_32 + u32(this.lastSeq);
    const ack = this.ackWraps * TWO_POW_32 + u32(this.ackSeq);
    let size = (last > ack ? last : ack) - u32(this.startSeq);
    // Zeek computes this in unsigned 64-bit arithmetic; a "negative" size wraps to a huge one,
    // which it then logs. Keep the non-negative part only, as any size below zero is noise.
    if (size < 0) size = 0;
    if (size !== 0) size--; // the SYN octet
    if (this.finCount > 0 && size !== 0) size--; // the FIN octet
    return size;
  }
}
