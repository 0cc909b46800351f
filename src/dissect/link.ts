/**
 * Link layer: one dissector per LINKTYPE_* value (the pcap/pcapng "network" field), each
 * finding where the network header starts and which EtherType it carries — the first step of
 * the same selector chain the kernel follows (device type → packet_type → net_protocol).
 */
import { read32be, readU16be, type PacketView } from './packet.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_12 = 12; // DLT_RAW on most platforms
export const LINKTYPE_RAW_14 = 14; // DLT_RAW on OpenBSD
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_PPPOE_SESSION = 0x8864;
/** Not on any wire: "look at the IP version nibble" (raw IP and MPLS carry no type). */
export const ETHERTYPE_IP_BY_VERSION = -2;
/** The frame is too short for its link header. */
export const LINK_TRUNCATED = -1;

/** Returns the EtherType of the payload and stores its offset in view.ipOffset. */
export type LinkDissector = (view: PacketView, b: Buffer, off: number, end: number) => number;

function ethernet(view: PacketView, b: Buffer, off: number, end: number): number {
  if (end - off < 14) return LINK_TRUNCATED;
  view.ipOffset = off + 14;
  return readU16be(b, off + 12);
}

/** Linux cooked capture v1: 16-byte header, protocol (EtherType) in the last two bytes. */
function linuxSll(view: PacketView, b: Buffer, off: number, end: number): number {
  if (end - off < 16) return LINK_TRUNCATED;
  view.ipOffset = off + 16;
  return readU16be(b, off + 14);
}

/** Linux cooked capture v2 (what `tcpdump -i any` writes today): 20-byte header, protocol first. */
function linuxSll2(view: PacketView, b: Buffer, off: number, end: number): number {
  if (end - off < 20) return LINK_TRUNCATED;
  // The interface index (bytes 4-7): a small integer either way (collisions only hide a copy).
  view.captureIf = ((view.captureIf << 16) ^ read32be(b, off + 4)) | 0;
  view.ipOffset = off + 20;
  return readU16be(b, off);
}

function rawIp(view: PacketView, _b: Buffer, off: number, _end: number): number {
  view.ipOffset = off;
  return ETHERTYPE_IP_BY_VERSION;
}

function ipv4Only(view: PacketView, _b: Buffer, off: number, _end: number): number {
  view.ipOffset = off;
  return ETHERTYPE_IPV4;
}

function ipv6Only(view: PacketView, _b: Buffer, off: number, _end: number): number {
  view.ipOffset = off;
  return ETHERTYPE_IPV6;
}

/**
 * BSD loopback: a 4-byte address family. LINKTYPE_NULL stores it in the byte order of the host
 * that wrote the file, so both orders are tried; LINKTYPE_LOOP always uses network order.
 * AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
 */
function afToEtherType(af: number): number {
  if (af === 2) return ETHERTYPE_IPV4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return ETHERTYPE_IPV6;
  return 0;
}

function bsdNull(view: PacketView, b: Buffer, off: number, end: number): number {
  if (end - off < 4) return LINK_TRUNCATED;
  view.ipOffset = off + 4;
  const le = b.readUInt32LE(off);
  return afToEtherType(le <= 0xffff ? le : b.readUInt32BE(off));
}

function bsdLoop(view: PacketView, b: Buffer, off: number, end: number): number {
  if (end - off < 4) return LINK_TRUNCATED;
  view.ipOffset = off + 4;
  return afToEtherType(b.readUInt32BE(off));
}

/** Indexed by link type; undefined means "unknown link type". */
export const LINK_DISSECTORS: ReadonlyMap<number, LinkDissector> = new Map<number, LinkDissector>([
  [LINKTYPE_NULL, bsdNull],
  [LINKTYPE_ETHERNET, ethernet],
  [LINKTYPE_RAW_12, rawIp],
  [LINKTYPE_RAW_14, rawIp],
  [LINKTYPE_RAW, rawIp],
  [LINKTYPE_LOOP, bsdLoop],
  [LINKTYPE_LINUX_SLL, linuxSll],
  [LINKTYPE_IPV4, ipv4Only],
  [LINKTYPE_IPV6, ipv6Only],
  [LINKTYPE_LINUX_SLL2, linuxSll2],
]);

export const LINK_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [LINKTYPE_NULL, 'NULL (BSD loopback)'],
  [LINKTYPE_ETHERNET, 'EN10MB (Ethernet)'],
  [LINKTYPE_RAW_12, 'RAW (raw IP, DLT 12)'],
  [LINKTYPE_RAW_14, 'RAW (raw IP, DLT 14)'],
  [LINKTYPE_RAW, 'RAW (raw IP)'],
  [LINKTYPE_LOOP, 'LOOP (OpenBSD loopback)'],
  [LINKTYPE_LINUX_SLL, 'LINUX_SLL (Linux cooked v1)'],
  [LINKTYPE_IPV4, 'IPV4 (raw IPv4)'],
  [LINKTYPE_IPV6, 'IPV6 (raw IPv6)'],
  [LINKTYPE_LINUX_SLL2, 'LINUX_SLL2 (Linux cooked v2)'],
]);
