/**
 * Which bytes of a direction were seen, and which the peer acknowledged without us ever
 * seeing them: a model of Zeek's TCP_Reassembler that keeps positions only (no payload).
 *
 * A gap (history G/g, conn.log missed_bytes) is data the receiver ACKed that never appeared
 * in the capture — capture loss, not network loss: the receiver had it. Like Zeek, gaps count
 * only while both sides are established or closing cleanly; elsewhere sequence numbers lie.
 */
import type { Connection } from './connection.js';
import { EndpointState, type Endpoint } from './endpoint.js';
import { isScaledMilestone } from './history.js';

/** tcp_max_above_hole_without_any_acks: stop tracking a direction that piles data above a hole unacked. */
const MAX_ABOVE_HOLE_WITHOUT_ANY_ACKS = 16384;
/** Out-of-order ranges kept per direction; beyond that the oldest are merged (memory bound). */
const MAX_BLOCKS = 64;

function isClean(e: Endpoint): boolean {
  return e.state === EndpointState.Established || (e.state === EndpointState.Closed && e.prevState === EndpointState.Established);
}

function gap(c: Connection, e: Endpoint, peer: Endpoint, len: number): void {
  if (isClean(e) && isClean(peer)) {
    if (isScaledMilestone(++e.gaps)) c.addHistory(e.isOrig ? 'G' : 'g');
    c.missedBytes += len;
    e.missedBytes += len;
  }
}

/** Delivers the in-order prefix of the buffered blocks. */
function deliverBuffered(e: Endpoint): void {
  const b = e.blocks;
  if (b === null) return;
  let i = 0;
  while (i < b.length && b[i]! <= e.reassemSeq) {
    if (b[i + 1]! > e.reassemSeq) e.reassemSeq = b[i + 1]!;
    i += 2;
  }
  if (i > 0) b.splice(0, i);
}

function insertBlock(e: Endpoint, seq: number, upper: number): void {
  const b = (e.blocks ??= []);
  let i = 0;
  while (i < b.length && b[i]! < seq) i += 2;
  b.splice(i, 0, seq, upper);
  // Merge overlapping or touching neighbours so the list stays short and sorted.
  let w = 0;
  for (let r = 2; r < b.length; r += 2) {
    if (b[r]! <= b[w + 1]!) {
      if (b[r + 1]! > b[w + 1]!) b[w + 1] = b[r + 1]!;
    } else {
      w += 2;
      b[w] = b[r]!;
      b[w + 1] = b[r + 1]!;
    }
  }
  b.length = b.length === 0 ? 0 : w + 2;
  if (b.length > MAX_BLOCKS * 2) b.splice(2, 2); // forget the second range: bounded memory beats precision here
}

/** Payload [relSeq, relSeq+len) from endpoint e was captured whole. */
export function dataSent(e: Endpoint, relSeq: number, len: number): void {
  if (e.skipDeliveries) return;
  const acked = e.toRelativeSeqSpace(e.ackSeq, e.ackWraps);
  let seq = relSeq;
  const upper = relSeq + len;
  if (seq < acked) {
    if (upper <= acked) return;
    seq = acked;
  }
  if (upper <= e.trimSeq) return;
  if (seq < e.trimSeq) seq = e.trimSeq;
  if (seq <= e.reassemSeq) {
    if (upper > e.reassemSeq) {
      e.reassemSeq = upper;
      deliverBuffered(e);
    }
  } else {
    insertBlock(e, seq, upper);
  }
  const blocks = e.blocks;
  if (blocks !== null && blocks.length > 0 && e.noDataAcked()) {
    const last = blocks[blocks.length - 1]!;
    if (last - e.reassemSeq > MAX_ABOVE_HOLE_WITHOUT_ANY_ACKS) {
      // Zeek's above_hole_data_without_any_acks: we are probably not seeing the peer's ACKs.
      blocks.length = 0;
      e.skipDeliveries = true;
    }
  }
}

/**
 * The peer acknowledged e's data up to relative sequence `relAck`. Anything between what we
 * saw in order and that point was never captured.
 */
export function ackReceived(c: Connection, e: Endpoint, peer: Endpoint, relAck: number): void {
  let seq = relAck;
  if (e.finCount > 0 && seq >= e.finSeq) seq = e.finSeq - 1;
  if (seq <= e.trimSeq) return;
  if (seq > e.reassemSeq && !e.skipDeliveries) {
    // A partial connection's faked ISN makes the first ACK look like a 1-2 byte gap: not a gap.
    if (!(seq <= 2 && c.isPartial)) {
      const b = e.blocks;
      while (b !== null && b.length > 0 && b[0]! < seq) {
        if (b[0]! > e.reassemSeq) gap(c, e, peer, b[0]! - e.reassemSeq);
        if (b[1]! > e.reassemSeq) e.reassemSeq = b[1]!;
        b.splice(0, 2);
      }
      if (seq > e.reassemSeq) gap(c, e, peer, seq - e.reassemSeq);
      if (seq > e.reassemSeq) e.reassemSeq = seq;
    }
  }
  e.trimSeq = seq;
}
