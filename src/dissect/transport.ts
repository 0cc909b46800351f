/**
 * IP protocol registry: the network layer's selector → the transport dissector, as the
 * kernel's inet_protos/inet6_protos tables do in ip_local_deliver_finish. Tunnels (IP-in-IP,
 * IPv6-in-IPv4, GRE, Teredo over UDP) re-enter the network layer one level deeper.
 */
import { dissectIcmp, dissectIcmpv6 } from './icmp.js';
import { dissectIpv4 } from './ipv4.js';
import { dissectIpv6 } from './ipv6.js';
import { dissectEtherType, malformed } from './network.js';
import { Verdict, type PacketView } from './packet.js';
import { dissectTcp } from './tcp.js';
import { dissectUdp } from './udp.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;

/** How many tunnel layers we unwrap before calling a packet malformed (loops, bombs). */
export const MAX_TUNNEL_DEPTH = 4;

/**
 * @param off first byte of the transport header; @param capEnd end of the captured bytes;
 * @param wireLen length of the transport header + payload according to the IP header.
 */
export type TransportDissector = (view: PacketView, b: Buffer, off: number, capEnd: number, wireLen: number, depth: number) => Verdict;

function tunnelIpv4(view: PacketView, b: Buffer, off: number, capEnd: number, _wireLen: number, depth: number): Verdict {
  if (depth >= MAX_TUNNEL_DEPTH) return malformed(view, 'tunnel_too_deep');
  view.tunnelDepth = depth + 1;
  return dissectIpv4(view, b, off, capEnd, depth + 1);
}

function tunnelIpv6(view: PacketView, b: Buffer, off: number, capEnd: number, _wireLen: number, depth: number): Verdict {
  if (depth >= MAX_TUNNEL_DEPTH) return malformed(view, 'tunnel_too_deep');
  view.tunnelDepth = depth + 1;
  return dissectIpv6(view, b, off, capEnd, depth + 1);
}

/** GRE (RFC 2784/2890): flags+version, protocol type (an EtherType), optional checksum/key/sequence words. */
function gre(view: PacketView, b: Buffer, off: number, capEnd: number, _wireLen: number, depth: number): Verdict {
  if (depth >= MAX_TUNNEL_DEPTH) return malformed(view, 'tunnel_too_deep');
  if (capEnd - off < 4) return malformed(view, 'truncated_gre_header');
  const flags = b[off]!;
  if ((b[off + 1]! & 7) !== 0) return Verdict.Other; // version 1 is PPTP's enhanced GRE
  let hl = 4;
  if (flags & 0x80) hl += 4; // checksum present
  if (flags & 0x20) hl += 4; // key present
  if (flags & 0x10) hl += 4; // sequence number present
  if (capEnd - off < hl) return malformed(view, 'truncated_gre_header');
  view.tunnelDepth = depth + 1;
  return dissectEtherType(view, b, off + hl, capEnd, (b[off + 2]! << 8) | b[off + 3]!, depth + 1);
}

const TRANSPORT_DISSECTORS: (TransportDissector | undefined)[] = new Array<TransportDissector | undefined>(256);
TRANSPORT_DISSECTORS[IPPROTO_ICMP] = dissectIcmp;
TRANSPORT_DISSECTORS[IPPROTO_IPIP] = tunnelIpv4;
TRANSPORT_DISSECTORS[IPPROTO_TCP] = dissectTcp;
TRANSPORT_DISSECTORS[IPPROTO_UDP] = dissectUdp;
TRANSPORT_DISSECTORS[IPPROTO_IPV6] = tunnelIpv6;
TRANSPORT_DISSECTORS[IPPROTO_GRE] = gre;
TRANSPORT_DISSECTORS[IPPROTO_ICMPV6] = dissectIcmpv6;

export function dissectIpPayload(view: PacketView, b: Buffer, off: number, capEnd: number, wireLen: number, proto: number, depth: number): Verdict {
  const d = TRANSPORT_DISSECTORS[proto];
  return d === undefined ? Verdict.Other : d(view, b, off, capEnd, wireLen, depth);
}
