/**
 * Per-packet TCP state for one connection: Zeek's TCPSessionAdapter::Process and its state
 * machine, so conn_state, history and byte counts agree with Zeek's conn.log. Names follow
 * Zeek's (init_endpoint, update_history, UpdateStateMachine, ...) to keep the two easy to
 * compare line by line.
 */
import { TH_ACK, TH_FIN, TH_RST, TH_SYN, type PacketView } from '../dissect/packet.js';
import { synWindowScale } from '../dissect/tcp.js';
import { ackReceived, dataSent } from './content-gaps.js';
import type { Connection } from './connection.js';
import { type Endpoint, EndpointState, isHandshakeState } from './endpoint.js';
import {
  HIST_ACK_PKT,
  HIST_DATA_PKT,
  HIST_FIN_PKT,
  HIST_FIN_RST_PKT,
  HIST_MULTI_FLAG_PKT,
  HIST_RST_PKT,
  HIST_SYN_PKT,
  isScaledMilestone,
} from './history.js';
import { seqAdd, seqDelta, u32 } from './seq.js';
import {
  INTERACTIVE_INACTIVITY_TIMEOUT,
  INTERACTIVE_PORTS,
  TCP_ATTEMPT_DELAY,
  TCP_CLOSE_DELAY,
  TCP_INACTIVITY_TIMEOUT,
  TCP_SESSION_TIMER,
} from './timers.js';

/** Zeek's TOO_LARGE_SEQ_DELTA: SYN/RST sequence jumps beyond this are not trusted. */
const TOO_LARGE_SEQ_DELTA = 1048576;
const ORIG_SEEN = 1;
const RESP_SEEN = 2;

function setState(c: Connection, e: Endpoint, peer: Endpoint, s: EndpointState): void {
  if (s === e.state) return;
  // Finishing the handshake switches the connection to the established inactivity timeout.
  if (!isHandshakeState(s) && isHandshakeState(e.state) && isHandshakeState(peer.state)) {
    c.inactivityTimeout = TCP_INACTIVITY_TIMEOUT;
  }
  e.prevState = e.state;
  e.state = s;
}

/** `code` is the originator's (upper-case) letter; `respCode` the responder's, spelled out so no string is built per packet. */
function checkHistory(c: Connection, e: Endpoint, mask: number, code: string, respCode: string): boolean {
  return e.isOrig ? c.checkHistory(mask, code) : c.checkHistory(mask << 16, respCode);
}

function addHistory(c: Connection, e: Endpoint, code: string, respCode: string): void {
  c.addHistory(e.isOrig ? code : respCode);
}

/** Relative sequence number (Zeek's get_relative_seq); sets `underflow` when before the ISN. */
function relativeSeq(e: Endpoint, cur: number, last: number, wraps: number, out: { underflow: boolean }): number {
  const delta = seqDelta(cur, last);
  if (delta < 0) {
    if (wraps > 0 && u32(cur) > u32(last)) wraps--;
  } else if (delta > 0) {
    if (u32(cur) < u32(last)) wraps++;
  }
  if (wraps === 0) {
    const d = seqDelta(cur, e.startSeq);
    if (d < 0) out.underflow = true;
    return d;
  }
  return e.toRelativeSeqSpace(cur, wraps);
}

function initEndpoint(c: Connection, e: Endpoint, flags: number, firstSeq: number, lastSeq: number): void {
  switch (e.state) {
    case EndpointState.Inactive:
      if (flags & TH_SYN) {
        e.ackSeq = firstSeq;
        e.startSeq = firstSeq;
      } else {
        // A partial connection: number as though a SYN had been seen just before.
        e.ackSeq = (firstSeq - 1) | 0;
        e.startSeq = (firstSeq - 1) | 0;
        lastSeq = firstSeq;
      }
      e.lastSeq = lastSeq;
      break;
    case EndpointState.SynSent:
    case EndpointState.SynAckSent:
      if (flags & TH_SYN && firstSeq !== e.startSeq) {
        c.weird('SYN_seq_jump');
        e.startSeq = firstSeq;
        e.ackSeq = firstSeq;
        e.lastSeq = lastSeq;
      }
      break;
    case EndpointState.Established:
    case EndpointState.Partial:
      if (flags & TH_SYN) {
        if (firstSeq !== e.startSeq) c.weird('SYN_seq_jump');
        e.startSeq = firstSeq;
        e.ackSeq = firstSeq;
        e.lastSeq = lastSeq;
      }
      break;
    case EndpointState.Reset:
      // A SYN after a RST that came first: the RST was probably injected; renumber from the SYN.
      if (flags & TH_SYN && e.prevState === EndpointState.Inactive) {
        e.startSeq = firstSeq;
        e.ackSeq = firstSeq;
        e.lastSeq = lastSeq;
      }
      break;
    default:
      break;
  }
}

function updateHistory(c: Connection, e: Endpoint, flags: number, relSeq: number, len: number): void {
  const syn = flags & TH_SYN;
  const fin = flags & TH_FIN;
  const rst = flags & TH_RST;
  const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
  if (bits > 1) {
    if (fin && rst) checkHistory(c, e, HIST_FIN_RST_PKT, 'I', 'i');
    else checkHistory(c, e, HIST_MULTI_FLAG_PKT, 'Q', 'q');
  } else if (bits === 1) {
    if (syn) {
      const code = flags & TH_ACK ? 'H' : 'S';
      const respCode = flags & TH_ACK ? 'h' : 's';
      if (checkHistory(c, e, HIST_SYN_PKT, code, respCode) && relSeq !== e.histLastSyn) addHistory(c, e, code, respCode);
      e.histLastSyn = relSeq;
    }
    if (fin) {
      // A FIN's sequence number is at the end of the data it carries.
      if (checkHistory(c, e, HIST_FIN_PKT, 'F', 'f') && relSeq + len !== e.histLastFin) addHistory(c, e, 'F', 'f');
      e.histLastFin = relSeq + len;
    }
    if (rst) {
      if (checkHistory(c, e, HIST_RST_PKT, 'R', 'r') && relSeq !== e.histLastRst) addHistory(c, e, 'R', 'r');
      e.histLastRst = relSeq;
    }
  } else if (len > 0) {
    checkHistory(c, e, HIST_DATA_PKT, 'D', 'd');
  } else if (flags & TH_ACK) {
    checkHistory(c, e, HIST_ACK_PKT, 'A', 'a');
  }
}

function updateWindow(c: Connection, e: Endpoint, peer: Endpoint, window: number, baseSeq: number, ackSeq: number, flags: number): void {
  const scaled = window * e.windowFactor;
  // A zero window matters unless it comes with/after our RST or after the peer's FIN.
  if (scaled === 0 && !(flags & TH_RST) && peer.state !== EndpointState.Closed && e.state !== EndpointState.Reset) {
    if (isScaledMilestone(++e.zeroWindows)) addHistory(c, e, 'W', 'w');
  }
  if (!(flags & (TH_SYN | TH_FIN | TH_RST)) && e.state !== EndpointState.Closed && e.state !== EndpointState.Reset) {
    if (seqDelta(baseSeq, e.windowSeq) >= 0 && seqDelta(ackSeq, e.windowAckSeq) >= 0) {
      const advance = seqDelta(seqAdd(ackSeq, scaled), seqAdd(e.windowAckSeq, e.window));
      if (advance < 0 && -advance >= e.windowFactor) c.weird('window_recision');
      e.window = scaled;
      e.windowAckSeq = ackSeq;
      e.windowSeq = baseSeq;
    }
  }
}

function initWindow(e: Endpoint, peer: Endpoint, flags: number, scale: number, baseSeq: number, ackSeq: number): void {
  if (scale < 0) {
    e.setWindowScale(0);
    if (flags & TH_ACK) peer.setWindowScale(0); // not negotiated
  } else {
    e.setWindowScale(scale > 14 ? 14 : scale); // RFC 7323 caps the shift at 14
    e.windowSeq = baseSeq;
    e.windowAckSeq = ackSeq;
    peer.windowSeq = ackSeq;
    peer.windowAckSeq = baseSeq;
  }
}

function initPeer(c: Connection, peer: Endpoint, e: Endpoint, flags: number, ackSeq: number): void {
  if (!(flags & (TH_SYN | TH_FIN | TH_RST))) {
    if (e.state === EndpointState.SynSent || e.state === EndpointState.SynAckSent || e.state === EndpointState.Established) {
      c.weird('possible_split_routing');
    }
  }
  // Number the silent peer as though its SYN had been seen.
  const s = (ackSeq - 1) | 0;
  peer.startSeq = s;
  peer.ackSeq = s;
  peer.lastSeq = s;
}

function updateAckSeq(e: Endpoint, ackSeq: number): void {
  const delta = seqDelta(ackSeq, e.ackSeq);
  // An ACK of exactly 0 far ahead is more likely broken than a connection landing on 0.
  if (ackSeq === 0 && delta > TOO_LARGE_SEQ_DELTA) return;
  if (delta > 0) e.updateAckSeq(ackSeq);
}

function updateLastSeq(c: Connection, e: Endpoint, lastSeq: number, flags: number, len: number): number {
  const delta = seqDelta(lastSeq, e.lastSeq);
  if (flags & (TH_SYN | TH_RST) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA)) {
    // A wild SYN/RST sequence number is not trusted.
  } else if (flags & TH_FIN && e.lastSeq === seqAdd(e.startSeq, 1)) {
    // Only the SYN and the FIN were seen (e.g. > 2 GB transfers): trust the FIN.
    e.updateLastSeq(lastSeq);
  } else if (e.state === EndpointState.Reset) {
    // Nothing after our own RST is trusted.
  } else if (delta > 0) {
    e.updateLastSeq(lastSeq);
  } else if (len > 0) {
    if (isScaledMilestone(++e.retransmissions)) addHistory(c, e, 'T', 't');
  }
  return delta;
}

/** Zeek's ConnectionClosed: decides when a close is complete and arms the delete timer. */
function connectionClosed(c: Connection, e: Endpoint, peer: Endpoint, genEvent: boolean): void {
  if (e.didClose) return;
  e.didClose = true;
  const complete = e.state === EndpointState.Reset || peer.didClose || peer.state === EndpointState.Inactive;
  if (complete) {
    if ((e.prevState !== EndpointState.Inactive || peer.state !== EndpointState.Inactive) && genEvent) {
      c.isActive = false; // connection_finished / connection_half_finished
    }
    // CancelTimers(): the attempt and expire timers stop; the inactivity timer is the connection's own.
    c.attemptAt = Infinity;
    c.cancelExpireTimers();
    c.deleteAt = c.lastTime + TCP_CLOSE_DELAY;
  } else if (e.prevState !== EndpointState.Inactive) {
    // Watch for the other side closing too.
    c.expireTicks.push(c.lastTime + TCP_SESSION_TIMER);
  }
}

function connectionReset(c: Connection): void {
  c.isActive = false;
}

interface Close {
  doClose: boolean;
  genEvent: boolean;
}

function updateInactiveState(c: Connection, t: number, e: Endpoint, peer: Endpoint, baseSeq: number, ackSeq: number, len: number, isOrig: boolean, flags: number, out: Close): void {
  if (flags & TH_SYN) {
    if (isOrig) {
      if (flags & TH_ACK) {
        c.weird('connection_originator_SYN_ack');
        setState(c, e, peer, EndpointState.SynAckSent);
      } else {
        setState(c, e, peer, EndpointState.SynSent);
      }
      c.attemptAt = t + TCP_ATTEMPT_DELAY;
    } else {
      if (flags & TH_ACK) {
        if (peer.state !== EndpointState.Inactive && peer.state !== EndpointState.Partial && !(seqDelta(ackSeq, peer.startSeq) >= 0 && seqDelta(ackSeq, peer.lastSeq) <= 0)) {
          c.weird('bad_SYN_ack');
        }
      } else if (peer.state === EndpointState.SynAckSent && baseSeq === e.startSeq) {
        // SYN and SYN-ACK captured in reverse order: flip the roles and establish.
        c.isPartial = false;
        c.flipRoles();
        setState(c, peer, e, EndpointState.Established);
        c.firstPacketSeen |= ORIG_SEEN;
      } else {
        c.weird('simultaneous_open');
      }
      if (peer.state === EndpointState.SynSent) setState(c, peer, e, EndpointState.Established);
      else if (peer.state === EndpointState.Inactive) c.weird('unsolicited_SYN_response');
      setState(c, e, peer, EndpointState.Established);
      // connection_established: interactive services get a longer inactivity timeout.
      if (peer.state !== EndpointState.Partial && INTERACTIVE_PORTS.has(c.respPort)) c.inactivityTimeout = INTERACTIVE_INACTIVITY_TIMEOUT;
    }
  }
  if (flags & TH_FIN) {
    setState(c, e, peer, EndpointState.Closed);
    out.doClose = out.genEvent = true;
    if (peer.state !== EndpointState.Partial && !(flags & TH_SYN)) c.weird('spontaneous_FIN');
  }
  if (flags & TH_RST) {
    setState(c, e, peer, EndpointState.Reset);
    let isReject = false;
    if (isOrig) {
      // A SYN-ACK seen but no SYN, then our RST: a reverse scan, treated as a reject.
      if (peer.state === EndpointState.Established) isReject = true;
    } else if (peer.state === EndpointState.SynSent || peer.state === EndpointState.SynAckSent) {
      isReject = true;
    }
    out.doClose = true;
    out.genEvent = !isReject;
    if (!isReject && peer.state === EndpointState.Inactive) c.weird('spontaneous_RST');
  }
  if (e.state === EndpointState.Inactive) {
    if (!isOrig && len === 0 && c.orig.state === EndpointState.SynSent) {
      // Some stacks ACK an initial SYN before answering it: not a partial connection.
    } else if (flags & TH_ACK && peer.state === EndpointState.Established) {
      // The SYN-ACK was seen, the SYN missed: treat the connection as established.
      setState(c, e, peer, EndpointState.Established);
      c.isPartial = false;
      c.firstPacketSeen |= e.isOrig ? ORIG_SEEN : RESP_SEEN;
    } else {
      setState(c, e, peer, EndpointState.Partial);
    }
  }
}

function updateSynSentState(c: Connection, e: Endpoint, peer: Endpoint, len: number, flags: number, out: Close): void {
  if (flags & TH_FIN) {
    if (peer.state === EndpointState.Inactive || peer.state === EndpointState.SynSent) c.weird('inappropriate_FIN');
    setState(c, e, peer, EndpointState.Closed);
    out.doClose = out.genEvent = true;
  }
  if (flags & TH_RST) {
    setState(c, e, peer, EndpointState.Reset);
    connectionReset(c);
    out.doClose = true;
  } else if (len > 0) {
    c.weird('data_before_established');
  }
}

function updateEstablishedState(c: Connection, e: Endpoint, peer: Endpoint, flags: number, out: Close): void {
  if (flags & TH_SYN && e.state === EndpointState.Partial && peer.state === EndpointState.Inactive && !(flags & TH_ACK)) {
    c.weird('SYN_after_partial');
    setState(c, e, peer, EndpointState.SynSent);
  }
  if (flags & TH_FIN && !(flags & TH_RST)) {
    setState(c, e, peer, EndpointState.Closed);
    // The peer sent FIN then RST: that was a normal termination after all.
    if (peer.state === EndpointState.Reset && peer.prevState === EndpointState.Closed) setState(c, peer, e, EndpointState.Closed);
    out.doClose = out.genEvent = true;
  }
  if (flags & TH_RST) {
    setState(c, e, peer, EndpointState.Reset);
    out.doClose = true;
    if (peer.state !== EndpointState.Reset || peer.prevState !== EndpointState.Established) connectionReset(c);
  }
}

function updateClosedState(c: Connection, e: Endpoint, peer: Endpoint, deltaLast: number, flags: number, out: Close): void {
  if (flags & TH_SYN) c.weird('SYN_after_close');
  if (flags & TH_FIN && deltaLast > 0) c.weird('FIN_advanced_last_seq');
  // After a FIN exchange a RST changes nothing; after our FIN alone it is an abort.
  if (flags & TH_RST && peer.state !== EndpointState.Closed) {
    setState(c, e, peer, EndpointState.Reset);
    if (!e.didClose) out.doClose = true;
  }
}

function updateResetState(c: Connection, len: number, flags: number): void {
  if (flags & TH_SYN) c.weird('SYN_after_reset');
  if (flags & TH_FIN) c.weird('FIN_after_reset');
  if (len > 0 && !(flags & TH_RST)) c.weird('data_after_reset');
}

const closeScratch: Close = { doClose: false, genEvent: false };
const underflowScratch = { underflow: false };

/** Applies one TCP segment to its connection. `isOrig`: the segment came from the originator. */
export function processSegment(c: Connection, isOrig: boolean, v: PacketView): void {
  const e = isOrig ? c.orig : c.resp;
  const peer = isOrig ? c.resp : c.orig;
  const t = v.ts;
  const flags = v.flags;
  if (v.badChecksum) {
    // Zeek drops the segment after noting it: no state, no packet count.
    if (isScaledMilestone(++e.checksumErrors)) addHistory(c, e, 'C', 'c');
    return;
  }
  const baseSeq = v.seq;
  const ackSeq = v.ack;
  const len = v.payloadLen;

  // SetPartialStatus
  if (isOrig) {
    if (!(c.firstPacketSeen & ORIG_SEEN)) c.isPartial = !(flags & TH_SYN) || (flags & TH_ACK) !== 0;
  } else if (!(c.firstPacketSeen & RESP_SEEN) && !c.isPartial) {
    c.isPartial = !(flags & TH_SYN);
  }

  let segLen = len;
  if (flags & TH_SYN) segLen++;
  if (flags & TH_FIN) segLen++;
  if (flags & TH_RST) segLen -= len; // data on a RST is not part of the stream
  const onePast = seqAdd(baseSeq, segLen);

  initEndpoint(c, e, flags, baseSeq, onePast);
  underflowScratch.underflow = false;
  const relSeq = relativeSeq(e, baseSeq, e.lastSeq, e.seqWraps, underflowScratch);
  const seqUnderflow = underflowScratch.underflow;
  if (seqUnderflow && !(flags & TH_RST)) c.weird('TCP_seq_underflow_or_misorder');

  updateHistory(c, e, flags, relSeq, len);
  updateWindow(c, e, peer, v.window, baseSeq, ackSeq, flags);

  if (!c.orig.didClose || !c.resp.didClose) c.lastTime = t;

  if (flags & TH_SYN) initWindow(e, peer, flags, synWindowScale(v.data, v.tcpOffset, v.tcpHeaderLen), baseSeq, ackSeq);
  if (flags & TH_FIN) {
    e.finCount++;
    e.finSeq = relSeq + segLen;
  }
  if (flags & TH_RST) e.rstCount++;

  let relAck = 0;
  if (flags & TH_ACK) {
    if (peer.state === EndpointState.Inactive) {
      relAck = 1;
      initPeer(c, peer, e, flags, ackSeq);
    } else {
      underflowScratch.underflow = false;
      relAck = relativeSeq(peer, ackSeq, peer.ackSeq, peer.ackWraps, underflowScratch);
      if (underflowScratch.underflow) {
        relAck = 0;
        c.weird('TCP_ack_underflow_or_misorder');
      } else if (!(flags & TH_RST)) {
        updateAckSeq(peer, ackSeq); // ACKs on RSTs are not trusted
      }
    }
  }

  const deltaLast = updateLastSeq(c, e, onePast, flags, len);
  c.setEndpointLastTime(e, t);

  const out = closeScratch;
  out.doClose = false;
  out.genEvent = false;
  switch (e.state) {
    case EndpointState.Inactive:
      updateInactiveState(c, t, e, peer, baseSeq, ackSeq, len, isOrig, flags, out);
      break;
    case EndpointState.SynSent:
    case EndpointState.SynAckSent:
      updateSynSentState(c, e, peer, len, flags, out);
      break;
    case EndpointState.Established:
    case EndpointState.Partial:
      updateEstablishedState(c, e, peer, flags, out);
      break;
    case EndpointState.Closed:
      updateClosedState(c, e, peer, deltaLast, flags, out);
      break;
    case EndpointState.Reset:
      updateResetState(c, len, flags);
      break;
  }

  // After the state machine, so a gap revealed by a closing FIN/RST's ACK is judged in the new state.
  if (flags & TH_ACK) ackReceived(c, peer, e, relAck);

  const relDataSeq = flags & TH_SYN ? relSeq + 1 : relSeq;
  if (len > 0 && v.capturedPayload >= len && !(flags & TH_RST) && !seqUnderflow) dataSent(e, relDataSeq, len);

  if (out.doClose) connectionClosed(c, e, peer, out.genEvent);

  c.firstPacketSeen |= e.isOrig ? ORIG_SEEN : RESP_SEEN;
  e.pkts++;
  e.ipBytes += v.ipTotalLen;
}
