/**
 * Payload bytes for every segment come from one pseudo-random pool, copied at an offset derived
 * from the stream position: no per-packet allocation, and retransmissions repeat their bytes.
 */
import type { Rng } from './prng.js';

const POOL_SIZE = 1 << 16;
/** Offsets stop an MSS (1460) short of the end, so every payload fits in the pool. */
const SPAN = POOL_SIZE - 1460;

/** Random bytes look like the encrypted traffic (TLS, SSH) on the services the generator uses. */
export function makePayloadPool(rng: Rng): Buffer {
  const pool = Buffer.allocUnsafe(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i += 4) pool.writeUInt32LE(rng.u32(), i);
  return pool;
}

export function payloadOffset(streamPosition: number): number {
  return streamPosition % SPAN;
}
