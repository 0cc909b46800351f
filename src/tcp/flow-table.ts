/**
 * 4-tuple → live Connection. The key is a number (never a string): a symmetric hash of the two
 * (address, port) ends, so both directions of a flow find the same entry.
 *
 * Open addressing with linear probing: the hashes sit in one Int32Array and the connections in
 * a parallel array, so a lookup reads a few adjacent words instead of chasing a Map's chain, and
 * removal shifts the following entries back (no tombstones to pile up over millions of
 * connections). The table doubles when half full, so probes stay short.
 */
import type { PacketView } from '../dissect/packet.js';
import type { Connection } from './connection.js';

function mixEnd(a0: number, a1: number, a2: number, a3: number, port: number): number {
  let h = Math.imul(a3 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ a2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ a1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ a0, 0x165667b1);
  h = Math.imul(h ^ (h >>> 13) ^ port, 0x85ebca6b);
  return h ^ (h >>> 16);
}

/** Same value for (src, dst) and (dst, src); kept within V8's small-integer range. */
export function flowHash(v: PacketView): number {
  return ((mixEnd(v.src0, v.src1, v.src2, v.src3, v.srcPort) + mixEnd(v.dst0, v.dst1, v.dst2, v.dst3, v.dstPort)) | 0) & 0x3fffffff;
}

const INITIAL_CAPACITY = 1 << 12;

export class FlowTable {
  private hashes = new Int32Array(INITIAL_CAPACITY);
  private conns: (Connection | null)[] = new Array<Connection | null>(INITIAL_CAPACITY).fill(null);
  private mask = INITIAL_CAPACITY - 1;
  size = 0;

  /** The live connection of this packet's 4-tuple, in either direction. */
  find(hash: number, v: PacketView): Connection | null {
    const hashes = this.hashes;
    const conns = this.conns;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const c = conns[i]!;
      if (c === null) return null;
      if (
        hashes[i] === hash &&
        ((c.isFromOrig(v.src0, v.src1, v.src2, v.src3, v.srcPort) &&
          v.dstPort === c.respPort && v.dst3 === c.respA3 && v.dst2 === c.respA2 && v.dst1 === c.respA1 && v.dst0 === c.respA0) ||
          (c.isFromOrig(v.dst0, v.dst1, v.dst2, v.dst3, v.dstPort) &&
            v.srcPort === c.respPort && v.src3 === c.respA3 && v.src2 === c.respA2 && v.src1 === c.respA1 && v.src0 === c.respA0))
      ) {
        return c;
      }
    }
  }

  insert(c: Connection): void {
    if ((this.size + 1) * 2 > this.conns.length) this.grow();
    this.place(c);
    this.size++;
  }

  remove(c: Connection): void {
    const conns = this.conns;
    const hashes = this.hashes;
    const mask = this.mask;
    let hole = c.tableIndex;
    if (hole < 0 || conns[hole] !== c) return;
    c.tableIndex = -1;
    this.size--;
    // Backward-shift deletion: move later entries of the probe run into the hole when their
    // home slot is not between the hole and where they sit.
    for (let i = (hole + 1) & mask; ; i = (i + 1) & mask) {
      const next = conns[i]!;
      if (next === null) break;
      const home = hashes[i]! & mask;
      const fromHome = (i - home) & mask;
      const fromHole = (i - hole) & mask;
      if (fromHome >= fromHole) {
        conns[hole] = next;
        hashes[hole] = hashes[i]!;
        next.tableIndex = hole;
        hole = i;
      }
    }
    conns[hole] = null;
  }

  *all(): IterableIterator<Connection> {
    for (const c of this.conns) if (c !== null) yield c;
  }

  private place(c: Connection): void {
    const mask = this.mask;
    let i = c.hash & mask;
    while (this.conns[i] !== null) i = (i + 1) & mask;
    this.conns[i] = c;
    this.hashes[i] = c.hash;
    c.tableIndex = i;
  }

  private grow(): void {
    const old = this.conns;
    const capacity = old.length * 2;
    this.hashes = new Int32Array(capacity);
    this.conns = new Array<Connection | null>(capacity).fill(null);
    this.mask = capacity - 1;
    for (const c of old) if (c !== null) this.place(c);
  }
}
