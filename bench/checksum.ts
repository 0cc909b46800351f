/**
 * The Internet checksum (RFC 1071) used by the IPv4 header and by TCP. Sums are kept unfolded
 * across calls so the TCP pseudo-header and the segment can be added in separate steps.
 */

/** Adds the big-endian 16-bit words of buf[start, end) to sum; an odd last byte is padded with zero. */
export function addWords(buf: Buffer, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds the carries back in and complements: the value to store in the checksum field. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
