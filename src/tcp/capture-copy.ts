/**
 * Copies of one packet captured on two interfaces. `tcpdump -i any` on a host with a bridge
 * (Docker, Kubernetes, libvirt) records each packet on the veth and again on the bridge, and on a
 * router on the way in and on the way out. Fed to the state machine twice, every segment would
 * look retransmitted, every SYN like a connect() retried, every connection like a failure.
 *
 * A copy is the same segment as the latest one from the same side — same sequence and
 * acknowledgment numbers, flags, payload length, IPv4 identification and TCP checksum (which
 * covers options and payload) — captured on another interface within COPY_WINDOW_MS. A real
 * retransmission differs: Linux gives it a new IPv4 identification, and its TCP timestamp (and so
 * its checksum) changes once a millisecond has passed; and it leaves on the same interface. The
 * TTL is not compared: a router decrements it between the two copies. The tracker asks only once
 * the capture has shown a second interface: a capture of one costs a comparison per segment.
 */
import type { PacketView } from '../dissect/packet.js';
import type { Connection } from './connection.js';
import { msSince, tcpChecksumField } from './evidence.js';

/** The two copies are microseconds apart (one softirq); allow for the millisecond rounding of evidence times. */
export const COPY_WINDOW_MS = 2;

/**
 * True if `v` is a copy of the latest segment its sender sent on connection `c` — the sender's
 * own latest: on a busy bridge the copies of several connections interleave. The interface is
 * compared first: on a capture of one interface that is all this costs. (It takes the connection,
 * not its start time: a double passed to a call that is not inlined is boxed, once per packet.)
 */
export function isCaptureCopy(c: Connection, v: PacketView): boolean {
  const s = c.isFromOrig(v.src0, v.src1, v.src2, v.src3, v.srcPort) ? c.orig.ev : c.resp.ev;
  return (
    v.captureIf !== s.lastCaptureIf &&
    s.segments > 0 &&
    msSince(v.ts, c.startTime) - s.lastMs <= COPY_WINDOW_MS &&
    v.seq === s.lastSeq &&
    v.ack === s.lastAck &&
    v.flags === s.lastFlags &&
    v.payloadLen === s.lastLen &&
    v.ipId === s.lastIpId &&
    tcpChecksumField(v) === s.lastChecksum
  );
}
