/**
 * EtherType registry: the link layer's selector → the network-layer dissector, as the kernel's
 * packet_type list does in __netif_receive_skb. VLAN tags, MPLS labels and PPPoE sessions are
 * peeled off here so every link type gets them.
 */
import {
  ETHERTYPE_IP_BY_VERSION,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_MPLS,
  ETHERTYPE_PPPOE_SESSION,
  ETHERTYPE_QINQ,
  ETHERTYPE_QINQ_OLD,
  ETHERTYPE_VLAN,
} from './link.js';
import { dissectIpv4 } from './ipv4.js';
import { dissectIpv6 } from './ipv6.js';
import { readU16be, Verdict, type PacketView } from './packet.js';

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

export function dissectEtherType(view: PacketView, b: Buffer, off: number, end: number, etherType: number, depth: number): Verdict {
  for (;;) {
    switch (etherType) {
      case ETHERTYPE_IPV4:
        return dissectIpv4(view, b, off, end, depth);
      case ETHERTYPE_IPV6:
        return dissectIpv6(view, b, off, end, depth);
      case ETHERTYPE_IP_BY_VERSION: {
        if (off >= end) return malformed(view, 'truncated_ip_header');
        const version = b[off]! >> 4;
        if (version === 4) return dissectIpv4(view, b, off, end, depth);
        if (version === 6) return dissectIpv6(view, b, off, end, depth);
        return malformed(view, 'bad_ip_version');
      }
      case ETHERTYPE_VLAN:
      case ETHERTYPE_QINQ:
      case ETHERTYPE_QINQ_OLD:
        // 802.1Q / 802.1ad tag: 2 bytes TCI, then the next EtherType.
        if (end - off < 4) return malformed(view, 'truncated_vlan_tag');
        etherType = readU16be(b, off + 2);
        off += 4;
        continue;
      case ETHERTYPE_MPLS: {
        // Label stack entries of 4 bytes until the bottom-of-stack bit; IP follows (by version nibble).
        for (;;) {
          if (end - off < 4) return malformed(view, 'truncated_mpls_label');
          const bottom = (b[off + 2]! & 1) === 1;
          off += 4;
          if (bottom) break;
        }
        etherType = ETHERTYPE_IP_BY_VERSION;
        continue;
      }
      case ETHERTYPE_PPPOE_SESSION: {
        // 6-byte PPPoE header, then the 2-byte PPP protocol.
        if (end - off < 8) return malformed(view, 'truncated_pppoe_header');
        const ppp = readU16be(b, off + 6);
        off += 8;
        if (ppp === PPP_IPV4) etherType = ETHERTYPE_IPV4;
        else if (ppp === PPP_IPV6) etherType = ETHERTYPE_IPV6;
        else return Verdict.Other;
        continue;
      }
      default:
        return Verdict.Other;
    }
  }
}

export function malformed(view: PacketView, reason: string): Verdict {
  view.malformed = reason;
  return Verdict.Malformed;
}
