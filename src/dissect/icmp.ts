/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) errors that quote a TCP segment. An error message
 * carries the IP header of the packet that caused it and at least the first 8 bytes of its
 * transport header — for TCP the ports and the sequence number — which is enough to attribute
 * "port unreachable", "host unreachable" or "fragmentation needed" to a TCP connection.
 * After a successful match the view's addresses and ports are those of the quoted segment.
 */
import { readU16be, read32be, Verdict, type PacketView } from './packet.js';

const ICMP_DEST_UNREACH = 3;
const ICMP_SOURCE_QUENCH = 4;
const ICMP_REDIRECT = 5;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_PARAMETER_PROBLEM = 12;
const ICMPV6_DEST_UNREACH = 1;
const ICMPV6_PARAM_PROB = 4;
const IPPROTO_TCP = 6;

function rememberSender(view: PacketView): void {
  view.icmpFrom0 = view.src0;
  view.icmpFrom1 = view.src1;
  view.icmpFrom2 = view.src2;
  view.icmpFrom3 = view.src3;
}

function quotedTcp(view: PacketView, b: Buffer, p: number, capEnd: number): Verdict {
  if (capEnd - p < 8) return Verdict.Other;
  view.srcPort = readU16be(b, p);
  view.dstPort = readU16be(b, p + 2);
  view.seq = read32be(b, p + 4);
  view.ipProto = IPPROTO_TCP;
  return Verdict.IcmpAboutTcp;
}

export function dissectIcmp(view: PacketView, b: Buffer, off: number, capEnd: number, _wireLen: number, _depth: number): Verdict {
  if (capEnd - off < 8) return Verdict.Other;
  const type = b[off]!;
  if (type !== ICMP_DEST_UNREACH && type !== ICMP_SOURCE_QUENCH && type !== ICMP_REDIRECT && type !== ICMP_TIME_EXCEEDED && type !== ICMP_PARAMETER_PROBLEM) {
    return Verdict.Other;
  }
  const q = off + 8;
  if (capEnd - q < 20 || b[q]! >> 4 !== 4) return Verdict.Other;
  const hl = (b[q]! & 15) * 4;
  if (hl < 20 || b[q + 9] !== IPPROTO_TCP || capEnd - q < hl) return Verdict.Other;
  view.icmpType = type;
  view.icmpCode = b[off + 1]!;
  rememberSender(view);
  view.src0 = 0;
  view.src1 = 0;
  view.src2 = 0xffff;
  view.src3 = read32be(b, q + 12);
  view.dst0 = 0;
  view.dst1 = 0;
  view.dst2 = 0xffff;
  view.dst3 = read32be(b, q + 16);
  return quotedTcp(view, b, q + hl, capEnd);
}

export function dissectIcmpv6(view: PacketView, b: Buffer, off: number, capEnd: number, _wireLen: number, _depth: number): Verdict {
  if (capEnd - off < 8) return Verdict.Other;
  const type = b[off]!;
  // Types 1-4 are the error messages (unreachable, packet too big, time exceeded, parameter problem).
  if (type < ICMPV6_DEST_UNREACH || type > ICMPV6_PARAM_PROB) return Verdict.Other;
  const q = off + 8;
  if (capEnd - q < 40 || b[q]! >> 4 !== 6 || b[q + 6] !== IPPROTO_TCP) return Verdict.Other;
  view.icmpType = type;
  view.icmpCode = b[off + 1]!;
  rememberSender(view);
  view.src0 = read32be(b, q + 8);
  view.src1 = read32be(b, q + 12);
  view.src2 = read32be(b, q + 16);
  view.src3 = read32be(b, q + 20);
  view.dst0 = read32be(b, q + 24);
  view.dst1 = read32be(b, q + 28);
  view.dst2 = read32be(b, q + 32);
  view.dst3 = read32be(b, q + 36);
  return quotedTcp(view, b, q + 40, capEnd);
}
