/**
 * The Internet checksum (RFC 1071) over IPv4 headers and TCP segments with their pseudo-header.
 * Only used with --verify-checksums: captures taken on the sending host carry checksums the NIC
 * fills in later (offload), so checking them by default would throw away good packets.
 */
import type { PacketView } from './packet.js';

function sum16(b: Buffer, off: number, end: number, acc: number): number {
  let i = off;
  for (; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i < end) acc += b[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

export function ipv4HeaderChecksumOk(b: Buffer, off: number, headerLen: number): boolean {
  return fold(sum16(b, off, off + headerLen, 0)) === 0xffff;
}

/** True if the TCP checksum of the segment at view.tcpOffset is right; needs the whole segment captured. */
export function tcpChecksumOk(view: PacketView, b: Buffer, segmentLen: number): boolean {
  let acc = 0;
  if (view.ipVersion === 4) {
    acc += (view.src3 >>> 16) + (view.src3 & 0xffff) + (view.dst3 >>> 16) + (view.dst3 & 0xffff);
  } else {
    for (const w of [view.src0, view.src1, view.src2, view.src3, view.dst0, view.dst1, view.dst2, view.dst3]) {
      acc += (w >>> 16) + (w & 0xffff);
    }
  }
  acc += 6 + segmentLen;
  acc = sum16(b, view.tcpOffset, view.tcpOffset + segmentLen, acc);
  return fold(acc) === 0xffff;
}
