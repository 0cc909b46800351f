/**
 * The dissector's output: one mutable view of the current packet, reused for every frame.
 *
 * Addresses are kept as four 32-bit words, IPv4 as an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d), so the flow table compares and hashes numbers, never strings. Words and
 * sequence numbers hold their 32 bits as signed integers (see read32be).
 * All lengths are in bytes; `payloadLen` comes from the IP header (what was on the wire),
 * `capturedPayload` is how much of it the capture kept.
 */
export const enum Verdict {
  /** A TCP segment: the tcp* fields are valid. */
  Tcp = 1,
  /** An ICMP/ICMPv6 error quoting a TCP header: addresses/ports are those of the quoted segment. */
  IcmpAboutTcp = 2,
  /** Something else (ARP, UDP, ...): counted, not analysed. */
  Other = 0,
  /** Broken beyond use: `malformed` names why. */
  Malformed = -1,
}

export class PacketView {
  frame = 0;
  ts = 0;
  capLen = 0;
  origLen = 0;
  linkType = 0;
  /** How many tunnel layers (IP-in-IP, Teredo, GRE) were unwrapped to reach the inner IP header. */
  tunnelDepth = 0;
  /**
   * Which interface captured it, as one small integer: the file's interface (pcapng) and, for
   * Linux cooked v2 (`tcpdump -i any`), the kernel's ifindex mixed in. Only equality is used: a
   * copy of a packet captured on a second interface differs here (tcp/capture-copy.ts).
   */
  captureIf = 0;

  ipVersion = 0;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** Offset of the innermost IP header in `data`. */
  ipOffset = 0;
  /** IPv4 total length, or 40 + IPv6 payload length. */
  ipTotalLen = 0;
  ttl = 0;
  /** IPv4 identification; -1 for IPv6 (no such field). */
  ipId = -1;
  dontFragment = false;
  ipProto = 0;

  tcpOffset = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** TCP flag byte plus the NS bit as 0x100. */
  flags = 0;
  window = 0;
  tcpHeaderLen = 0;
  payloadLen = 0;
  capturedPayload = 0;

  /** With --verify-checksums: a TCP segment whose checksum is wrong (Zeek's 'C' history letter). */
  badChecksum = false;

  icmpType = 0;
  icmpCode = 0;
  /** Who sent the ICMP error (a router or the peer), as four words. */
  icmpFrom0 = 0;
  icmpFrom1 = 0;
  icmpFrom2 = 0;
  icmpFrom3 = 0;

  /** Set once by the caller: verify IPv4 header and TCP checksums. */
  verifyChecksums = false;

  malformed = '';
  data: Buffer = Buffer.alloc(0);
}

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PUSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;
export const TH_ECE = 0x40;
export const TH_CWR = 0x80;

export function readU16be(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/**
 * 32 big-endian bits as a signed 32-bit integer. Sequence numbers and address words keep their
 * bits this way so V8 holds them as small integers: an unsigned value ≥ 2^31 would be a heap
 * number, allocated afresh whenever it crosses a function boundary — per packet.
 */
export function read32be(b: Buffer, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

/** Text form of an address held as four words (IPv4-mapped shown as dotted quad). */
export function formatAddress(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return `${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`;
  }
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952: compress the longest run (length ≥ 2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses an IPv4 or IPv6 address into four words, or returns null. */
export function parseAddress(text: string): [number, number, number, number] | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const o = v4.slice(1).map(Number);
    if (o.some((x) => x > 255)) return null;
    return [0, 0, 0xffff, (o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!];
  }
  if (!text.includes(':')) return null;
  // An IPv4 address as the last 32 bits (::ffff:10.0.0.1, 64:ff9b::192.0.2.1): two groups.
  const dotted = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (dotted) {
    const v4 = parseAddress(dotted[2]!);
    if (v4 === null) return null;
    const w = v4[3];
    text = `${dotted[1]}${((w >>> 16) & 0xffff).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return null;
  const part = (s: string | undefined): number[] | null => {
    if (s === undefined || s === '') return [];
    const gs = s.split(':');
    if (gs.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
    return gs.map((g) => parseInt(g, 16));
  };
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  if (h === null || t === null) return null;
  const fill = 8 - h.length - t.length;
  if ((tail === undefined && fill !== 0) || fill < 0) return null;
  const g = [...h, ...new Array<number>(fill).fill(0), ...t];
  return [(g[0]! << 16) | g[1]!, (g[2]! << 16) | g[3]!, (g[4]! << 16) | g[5]!, (g[6]! << 16) | g[7]!];
}
