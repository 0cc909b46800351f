/**
 * 32-bit sequence-number arithmetic (RFC 9293 §3.4): comparisons are modulo 2^32. Sequence
 * numbers are held as signed 32-bit integers with the wire's bits (see read32be); `u32` gives
 * the unsigned value where magnitude matters.
 */
export const TWO_POW_32 = 4294967296;

/** a - b as a signed 32-bit distance (the kernel's before()/after() core). */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n wrapped to 32 bits. */
export function seqAdd(a: number, n: number): number {
  return (a + n) | 0;
}

/** The unsigned value of a 32-bit sequence number. */
export function u32(a: number): number {
  return a >>> 0;
}
