/**
 * TCP header (RFC 9293 §3.1):
 *   0: source port(16) | destination port(16)
 *   4: sequence number(32)
 *   8: acknowledgment number(32)
 *  12: data offset(4) reserved(3) NS/AE(1) | CWR ECE URG ACK PSH RST SYN FIN
 *  14: window(16)   16: checksum(16)   18: urgent pointer(16)   20: options (data offset*4 - 20)
 */
import { tcpChecksumOk } from './checksum.js';
import { malformed } from './network.js';
import { readU16be, read32be, Verdict, type PacketView } from './packet.js';

export function dissectTcp(view: PacketView, b: Buffer, off: number, capEnd: number, wireLen: number, _depth: number): Verdict {
  if (capEnd - off < 20) return malformed(view, 'truncated_tcp_header');
  const hl = (b[off + 12]! >> 4) * 4;
  if (hl < 20) return malformed(view, 'bad_tcp_header_len');
  if (capEnd - off < hl) return malformed(view, 'truncated_tcp_header');
  if (wireLen < hl) return malformed(view, 'bad_tcp_header_len');
  view.tcpOffset = off;
  view.srcPort = readU16be(b, off);
  view.dstPort = readU16be(b, off + 2);
  view.seq = read32be(b, off + 4);
  view.ack = read32be(b, off + 8);
  view.flags = b[off + 13]! | ((b[off + 12]! & 1) << 8);
  view.window = readU16be(b, off + 14);
  view.tcpHeaderLen = hl;
  view.payloadLen = wireLen - hl;
  const captured = capEnd - off - hl;
  view.capturedPayload = captured < view.payloadLen ? captured : view.payloadLen;
  // A segment can only be checked when all of it was captured (Zeek does the same).
  view.badChecksum = view.verifyChecksums && capEnd - off >= wireLen && !tcpChecksumOk(view, b, wireLen);
  return Verdict.Tcp;
}

/** TCP options, decoded on demand (SYNs, the packet-by-packet view), never for every segment. */
export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sack?: Array<[number, number]>;
  tsVal?: number;
  tsEcr?: number;
  /** Options tcpsleuth does not decode (TFO, MPTCP, MD5, ...), kept as kind and length. */
  unknown?: Array<{ kind: number; length: number }>;
  /** The option list ran past the header or had a zero length. */
  malformed?: boolean;
}

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

export function parseTcpOptions(b: Buffer, tcpOffset: number, headerLen: number): TcpOptions {
  const out: TcpOptions = {};
  let p = tcpOffset + 20;
  const end = tcpOffset + headerLen;
  while (p < end) {
    const kind = b[p]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end || b[p + 1]! < 2 || p + b[p + 1]! > end) {
      out.malformed = true;
      break;
    }
    const len = b[p + 1]!;
    if (kind === TCPOPT_MSS && len === 4) out.mss = readU16be(b, p + 2);
    // Zeek (build_syn_packet_val) reads the shift from any window-scale option of 3 bytes or more.
    else if (kind === TCPOPT_WINDOW && len >= 3) out.windowScale = b[p + 2]!;
    else if (kind === TCPOPT_SACK_PERM && len === 2) out.sackPermitted = true;
    else if (kind === TCPOPT_SACK && (len - 2) % 8 === 0) {
      out.sack = [];
      for (let q = p + 2; q < p + len; q += 8) out.sack.push([read32be(b, q) >>> 0, read32be(b, q + 4) >>> 0]);
    } else if (kind === TCPOPT_TIMESTAMP && len === 10) {
      out.tsVal = read32be(b, p + 2) >>> 0;
      out.tsEcr = read32be(b, p + 6) >>> 0;
    } else (out.unknown ??= []).push({ kind, length: len });
    p += len;
  }
  return out;
}

/**
 * The window-scale option of a SYN, or -1 if absent. Walks the options as parseTcpOptions does,
 * without building its object: it runs for every SYN and SYN-ACK.
 */
export function synWindowScale(b: Buffer, tcpOffset: number, headerLen: number): number {
  let scale = -1;
  const end = tcpOffset + headerLen;
  for (let p = tcpOffset + 20; p < end; ) {
    const kind = b[p]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    const len = p + 1 < end ? b[p + 1]! : 0;
    if (len < 2 || p + len > end) break;
    // Zeek (build_syn_packet_val) reads the shift from any window-scale option of 3 bytes or more.
    if (kind === TCPOPT_WINDOW && len >= 3) scale = b[p + 2]!;
    p += len;
  }
  return scale;
}

/** Flag letters as tcpdump prints them (S, F, R, P, U, E, W, and '.' for ACK). */
export function flagString(flags: number): string {
  let s = '';
  if (flags & 0x02) s += 'S';
  if (flags & 0x01) s += 'F';
  if (flags & 0x04) s += 'R';
  if (flags & 0x08) s += 'P';
  if (flags & 0x20) s += 'U';
  if (flags & 0x40) s += 'E';
  if (flags & 0x80) s += 'W';
  if (flags & 0x10) s += '.';
  return s === '' ? 'none' : s;
}
