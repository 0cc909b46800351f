/**
 * The bytes of one record or block that arrive over many chunks, collected in a buffer of the
 * parser's own that doubles as it fills. Appending by concatenation copies everything held for
 * every chunk: a 64 MiB block read from a pipe in 64 KiB pieces was a thousand copies averaging
 * 32 MiB (a minute of CPU for one corrupt length). Doubling copies each byte a bounded number of
 * times, and never allocates beyond the size the record says it has.
 */
export class Accumulator {
  private own: Buffer | null = null;

  /** `held` (the bytes collected so far, in this accumulator or not) followed by `chunk`. */
  append(held: Buffer, chunk: Buffer, finalSize: number): Buffer {
    const need = held.length + chunk.length;
    let own = this.own;
    const inOwn = own !== null && held.buffer === own.buffer && held.byteOffset === own.byteOffset;
    if (!inOwn || need > own!.length) {
      const next = Buffer.allocUnsafe(Math.max(need, Math.min(2 * need, finalSize)));
      held.copy(next, 0);
      own = this.own = next;
    }
    chunk.copy(own!, held.length);
    return own!.subarray(0, need);
  }

  /** The record is complete: let go of the buffer. */
  release(): void {
    this.own = null;
  }
}
