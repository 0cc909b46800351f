/**
 * IPv4 (RFC 791 §3.1):
 *   0: version(4) ihl(4) | tos | total_length(16)
 *   4: identification(16) | flags(3) fragment_offset(13)
 *   8: ttl | protocol | header_checksum(16)
 *  12: source address   16: destination address   20: options (ihl*4 - 20 bytes)
 */
import { ipv4HeaderChecksumOk } from './checksum.js';
import { malformed } from './network.js';
import { readU16be, read32be, Verdict, type PacketView } from './packet.js';
import { dissectIpPayload } from './transport.js';

export function dissectIpv4(view: PacketView, b: Buffer, off: number, end: number, depth: number): Verdict {
  if (end - off >= 1 && b[off]! >> 4 !== 4) return malformed(view, 'bad_ip_version');
  if (end - off < 20) return malformed(view, 'truncated_ip_header');
  const vihl = b[off]!;
  const hl = (vihl & 15) * 4;
  if (hl < 20) return malformed(view, 'bad_ip_header_len');
  if (end - off < hl) return malformed(view, 'truncated_ip_header');
  let total = readU16be(b, off + 2);
  // A zero total length is what TSO/GSO leaves in captures taken on the sender: trust the capture.
  if (total === 0) total = end - off;
  if (total < hl) return malformed(view, 'bad_ip_total_len');
  if (view.verifyChecksums && !ipv4HeaderChecksumOk(b, off, hl)) return malformed(view, 'bad_ip_checksum');
  const fragField = readU16be(b, off + 6);
  view.ipVersion = 4;
  view.ipOffset = off;
  view.ipTotalLen = total;
  view.ttl = b[off + 8]!;
  view.ipId = readU16be(b, off + 4);
  view.dontFragment = (fragField & 0x4000) !== 0;
  view.src0 = 0;
  view.src1 = 0;
  view.src2 = 0xffff;
  view.src3 = read32be(b, off + 12);
  view.dst0 = 0;
  view.dst1 = 0;
  view.dst2 = 0xffff;
  view.dst3 = read32be(b, off + 16);
  const proto = b[off + 9]!;
  view.ipProto = proto;
  // Fragments are noted, not reassembled: only a whole datagram carries a whole TCP header.
  if ((fragField & 0x3fff) !== 0) return malformed(view, 'ip_fragment');
  const payloadEnd = off + total < end ? off + total : end;
  return dissectIpPayload(view, b, off + hl, payloadEnd, total - hl, proto, depth);
}
