/**
 * 32-bit sequence-number arithmetic (RFC 9293 §3.4): comparisons are modulo 2^32.
 */
export const TWO_POW_32 = 4294967296;

/** a - b as a signed 32-bit distance (the kernel's before()/after() core). */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n wrapped to 32 bits. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
