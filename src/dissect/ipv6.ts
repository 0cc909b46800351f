/**
 * IPv6 (RFC 8200 §3): a fixed 40-byte header, then a chain of extension headers.
 *   0: version(4) traffic_class(8) flow_label(20)
 *   4: payload_length(16) | next_header | hop_limit
 *   8: source address (16 bytes)   24: destination address (16 bytes)
 * Extension headers walked here: hop-by-hop (0), routing (43), fragment (44), destination
 * options (60), mobility (135), HIP (139), shim6 (140) — all "next header, length in 8-byte
 * units beyond the first 8" — and AH (51), whose length counts 4-byte units beyond the first 8.
 */
import { malformed } from './network.js';
import { readU16be, read32be, Verdict, type PacketView } from './packet.js';
import { dissectIpPayload } from './transport.js';

const EXT_HOP_BY_HOP = 0;
const EXT_ROUTING = 43;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_DEST_OPTS = 60;
const EXT_MOBILITY = 135;
const EXT_HIP = 139;
const EXT_SHIM6 = 140;

export function dissectIpv6(view: PacketView, b: Buffer, off: number, end: number, depth: number): Verdict {
  if (end - off >= 1 && b[off]! >> 4 !== 6) return malformed(view, 'bad_ip_version');
  if (end - off < 40) return malformed(view, 'truncated_ip_header');
  const payloadLength = readU16be(b, off + 4);
  view.ipVersion = 6;
  view.ipOffset = off;
  // A zero payload length means a jumbogram or a TSO capture: trust the capture.
  view.ipTotalLen = payloadLength === 0 ? end - off : 40 + payloadLength;
  view.ttl = b[off + 7]!;
  view.ipId = -1;
  view.dontFragment = true;
  view.src0 = read32be(b, off + 8);
  view.src1 = read32be(b, off + 12);
  view.src2 = read32be(b, off + 16);
  view.src3 = read32be(b, off + 20);
  view.dst0 = read32be(b, off + 24);
  view.dst1 = read32be(b, off + 28);
  view.dst2 = read32be(b, off + 32);
  view.dst3 = read32be(b, off + 36);
  const datagramEnd = off + view.ipTotalLen;
  const capEnd = datagramEnd < end ? datagramEnd : end;
  let next = b[off + 6]!;
  let p = off + 40;
  for (;;) {
    switch (next) {
      case EXT_HOP_BY_HOP:
      case EXT_ROUTING:
      case EXT_DEST_OPTS:
      case EXT_MOBILITY:
      case EXT_HIP:
      case EXT_SHIM6:
        if (capEnd - p < 8) return malformed(view, 'truncated_ipv6_extension');
        next = b[p]!;
        p += 8 + b[p + 1]! * 8;
        continue;
      case EXT_AH:
        if (capEnd - p < 8) return malformed(view, 'truncated_ipv6_extension');
        next = b[p]!;
        p += (b[p + 1]! + 2) * 4;
        continue;
      case EXT_FRAGMENT:
        if (capEnd - p < 8) return malformed(view, 'truncated_ipv6_extension');
        // Offset ≠ 0 or more-fragments set: a piece of a datagram, noted and not reassembled.
        if ((readU16be(b, p + 2) & 0xfff9) !== 0) return malformed(view, 'ip_fragment');
        next = b[p]!;
        p += 8;
        continue;
      default:
        if (p > capEnd) return malformed(view, 'truncated_ipv6_extension');
        view.ipProto = next;
        return dissectIpPayload(view, b, p, capEnd, datagramEnd - p, next, depth);
    }
  }
}
