/**
 * Hand-made TCP segments for the scenarios that need a packet no socket would send: a SYN for a
 * connection that already exists (RFC 5961's challenge ACK), an old duplicate ACK that hits a
 * TIME_WAIT socket (RFC 1337). Built here, in TypeScript; the addon only sends the bytes through
 * an IPPROTO_RAW socket, which fills in the IPv4 header checksum (and id when 0).
 *
 *  IPv4 header (RFC 791)                       TCP header (RFC 9293 §3.1)
 *  0      4      8             16              0               16              31
 *  |ver|ihl| tos |  total length |             | source port   | dest port     |
 *  |  identification |flags|frag |             |        sequence number        |
 *  | ttl | proto |   checksum    |             |     acknowledgment number     |
 *  |        source address       |             |off|rsv|flags  |    window     |
 *  |     destination address     |             |   checksum    | urgent ptr    |
 */
import { isIPv4 } from 'node:net';

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface SegmentSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window?: number;
}

function ipv4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 packet holding one TCP segment without options or payload. */
export function buildTcpV4(s: SegmentSpec): Buffer {
  if (!isIPv4(s.src) || !isIPv4(s.dst)) throw new Error('buildTcpV4 needs IPv4 addresses');
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(s.sport, 0);
  tcp.writeUInt16BE(s.dport, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE(s.ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = s.flags;
  tcp.writeUInt16BE(s.window ?? 65535, 14);
  // The TCP checksum covers a pseudo-header: source, destination, zero, protocol, TCP length.
  const pseudo = Buffer.concat([ipv4Bytes(s.src), ipv4Bytes(s.dst), Buffer.from([0, 6, 0, 20]), tcp]);
  tcp.writeUInt16BE(checksum(pseudo), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(40, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 6;
  ipv4Bytes(s.src).copy(ip, 12);
  ipv4Bytes(s.dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([ip, tcp]);
}
