/**
 * 4-tuple → live Connection, keyed by a number (never a string): a symmetric hash of the two
 * (address, port) ends, so both directions of a flow land in the same bucket, with collisions
 * chained through Connection.nextInBucket.
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

export class FlowTable {
  private readonly buckets = new Map<number, Connection>();
  size = 0;

  /** The live connection of this packet's 4-tuple, in either direction. */
  find(hash: number, v: PacketView): Connection | null {
    let c = this.buckets.get(hash) ?? null;
    while (c !== null) {
      if (
        (c.isFromOrig(v.src0, v.src1, v.src2, v.src3, v.srcPort) &&
          v.dstPort === c.respPort && v.dst3 === c.respA3 && v.dst2 === c.respA2 && v.dst1 === c.respA1 && v.dst0 === c.respA0) ||
        (c.isFromOrig(v.dst0, v.dst1, v.dst2, v.dst3, v.dstPort) &&
          v.srcPort === c.respPort && v.src3 === c.respA3 && v.src2 === c.respA2 && v.src1 === c.respA1 && v.src0 === c.respA0)
      ) {
        return c;
      }
      c = c.nextInBucket;
    }
    return null;
  }

  insert(c: Connection): void {
    c.nextInBucket = this.buckets.get(c.hash) ?? null;
    this.buckets.set(c.hash, c);
    this.size++;
  }

  remove(c: Connection): void {
    let p = this.buckets.get(c.hash) ?? null;
    if (p === c) {
      if (c.nextInBucket === null) this.buckets.delete(c.hash);
      else this.buckets.set(c.hash, c.nextInBucket);
    } else {
      while (p !== null && p.nextInBucket !== c) p = p.nextInBucket;
      if (p === null) return;
      p.nextInBucket = c.nextInBucket;
    }
    c.nextInBucket = null;
    this.size--;
  }

  *all(): IterableIterator<Connection> {
    for (const head of this.buckets.values()) {
      for (let c: Connection | null = head; c !== null; c = c.nextInBucket) yield c;
    }
  }
}
