/**
 * UDP (RFC 768): source port | destination port | length | checksum, then payload.
 * UDP is not analysed for itself; it matters only as the carrier of Teredo (RFC 4380), whose
 * IPv6 packets (optionally behind an authentication and an origin-indication header) hold TCP
 * connections that tcpsleuth tracks like any other.
 */
import { dissectIpv6 } from './ipv6.js';
import { malformed } from './network.js';
import { readU16be, read32be, Verdict, type PacketView } from './packet.js';
import { MAX_TUNNEL_DEPTH } from './transport.js';

const TEREDO_PORT = 3544;
/** 2001:0000::/32, the Teredo prefix (RFC 4380 §2.6). */
const TEREDO_PREFIX = 0x20010000;

export function dissectUdp(view: PacketView, b: Buffer, off: number, capEnd: number, wireLen: number, depth: number): Verdict {
  if (capEnd - off < 8) return malformed(view, 'truncated_udp_header');
  if (wireLen < 8) return malformed(view, 'bad_udp_length');
  if (depth >= MAX_TUNNEL_DEPTH) return Verdict.Other;
  const sport = readU16be(b, off);
  const dport = readU16be(b, off + 2);
  let p = off + 8;
  // Authentication indicator: 0x0001, client-id length, auth-value length, id, value, 8-byte nonce, 1-byte confirmation.
  if (capEnd - p >= 4 && b[p] === 0 && b[p + 1] === 1) p += 4 + b[p + 2]! + b[p + 3]! + 9;
  // Origin indication: 0x0000, obfuscated port (2), obfuscated IPv4 address (4).
  if (capEnd - p >= 8 && b[p] === 0 && b[p + 1] === 0) p += 8;
  if (capEnd - p < 40 || b[p]! >> 4 !== 6) return Verdict.Other;
  const byPort = sport === TEREDO_PORT || dport === TEREDO_PORT;
  // Off the well-known port, accept only a self-consistent IPv6 packet to or from a Teredo address.
  const consistent = 40 + readU16be(b, p + 4) === off + wireLen - p;
  const teredoAddress = read32be(b, p + 8) === TEREDO_PREFIX || read32be(b, p + 24) === TEREDO_PREFIX;
  if (!byPort && !(consistent && teredoAddress)) return Verdict.Other;
  view.tunnelDepth = depth + 1;
  return dissectIpv6(view, b, p, capEnd, depth + 1);
}
