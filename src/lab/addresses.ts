/**
 * Addresses private to one lab run, drawn at random so that the kernel events of a run can be
 * told apart from everything else on the machine by their tuple alone: IPv4 from the
 * benchmarking block 198.18.0.0/15 (RFC 2544), IPv6 from a unique-local /64 (RFC 4193).
 * They live on the namespace's loopback, so client and server talk over `lo`.
 */
import { randomInt } from 'node:crypto';

export interface LabAddresses {
  family: 4 | 6;
  server: string;
  client: string;
  /** Prefix length to configure them with. */
  prefixLen: number;
}

export function drawAddresses(family: 4 | 6): LabAddresses {
  if (family === 4) {
    const b = 18 + randomInt(2);
    const c = randomInt(256);
    const d = 1 + randomInt(126);
    return { family, server: `198.${b}.${c}.${d}`, client: `198.${b}.${c}.${d + 128}`, prefixLen: 32 };
  }
  const g1 = (0x100 + randomInt(0xff00)).toString(16);
  const g2 = (0x100 + randomInt(0xff00)).toString(16);
  return { family, server: `fd00:7c5:${g1}:${g2}::1`, client: `fd00:7c5:${g1}:${g2}::2`, prefixLen: 128 };
}

/** A server port outside every ephemeral range a scenario configures (those start at 32768 or above). */
export function drawPort(): number {
  return 20000 + randomInt(10000);
}
