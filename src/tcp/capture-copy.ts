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
 * TTL is not compared: a router decrements it between the two copies.
 */
import type { PacketView } from '../dissect/packet.js';
import { tcpChecksumField, type SideEvidence } from './evidence.js';

/** The two copies are microseconds apart (one softirq); allow for the millisecond rounding of evidence times. */
export const COPY_WINDOW_MS = 2;

/** True if `v`, from the side with evidence `s`, `ms` after the connection began, is a copy of that side's latest segment. */
export function isCaptureCopy(s: SideEvidence, v: PacketView, ms: number): boolean {
  return (
    s.segments > 0 &&
    v.captureIf !== s.lastCaptureIf &&
    ms - s.lastMs <= COPY_WINDOW_MS &&
    v.seq === s.lastSeq &&
    v.ack === s.lastAck &&
    v.flags === s.lastFlags &&
    v.payloadLen === s.lastLen &&
    v.ipId === s.lastIpId &&
    tcpChecksumField(v) === s.lastChecksum
  );
}
