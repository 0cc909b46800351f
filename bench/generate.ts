/**
 * Writes a synthetic but realistic TCP capture for the benchmark: many thousands of connections
 * open at once, interleaved in time, with mixed outcomes (see scenarios.ts).
 *
 * Connections arrive as a Poisson process; each one's packets are scripted when it starts and
 * it then waits in a heap keyed by the time of its next packet, so memory is bounded by the
 * connections open at once, never by the file size. `repeat` writes the same traffic again,
 * each copy starting 15 minutes after the previous one ended (ISNs and TCP timestamps move on
 * with the clock), so that no connection spans copies: an analyzer whose memory grows from copy
 * to copy is leaking.
 */
import { AddressPlan } from './address-plan.js';
import type { Flow } from './conversation.js';
import { MinHeap } from './heap.js';
import { makePayloadPool } from './payload.js';
import { PcapWriter } from './pcap-writer.js';
import { Rng } from './prng.js';
import { buildScript, OUTCOME_MIX, type Outcome } from './scenarios.js';
import { frameLength, LINKTYPE_ETHERNET, writeFrame } from './tcp-frame.js';

export interface GenerateOptions {
  /** Connections to start, at least, in each copy. */
  connections: number;
  /** Packets to write, at least, in each copy. */
  targetPackets: number;
  /** Copies of the traffic, one after another. */
  repeat: number;
  seed: number;
}

export const DEFAULT_GENERATE_OPTIONS: GenerateOptions = {
  connections: 60_000,
  targetPackets: 2_000_000,
  repeat: 1,
  seed: 1,
};

export interface CaptureStats {
  /** Totals over all copies. */
  packets: number;
  bytes: number;
  connections: number;
  outcomes: Record<Outcome, number>;
  /** Capture time from the first to the last packet of one copy. */
  copySeconds: number;
  /** Most connections open at the same time. */
  peakOpen: number;
  longestConnectionSeconds: number;
}

/** Connections last about 4.5 s on average, so this keeps some 2,500 to 2,700 of them open at once. */
const ARRIVALS_PER_SECOND = 600;
/** 2024-03-01T00:00:00Z, so that timestamps do not change from run to run. */
const START_US = 1_709_251_200 * 1e6;
const GAP_BETWEEN_COPIES_US = 15 * 60 * 1e6;

/**
 * Writes the capture to `path` and says what is in it. Synchronous: the work is CPU-bound and
 * the benchmark has nothing else to do meanwhile.
 */
export function generateCapture(path: string, options: Partial<GenerateOptions> = {}): CaptureStats {
  const o = { ...DEFAULT_GENERATE_OPTIONS, ...options };
  const stats: CaptureStats = {
    packets: 0,
    bytes: 0,
    connections: 0,
    outcomes: Object.fromEntries(OUTCOME_MIX.map(([outcome]) => [outcome, 0])) as Record<Outcome, number>,
    copySeconds: 0,
    peakOpen: 0,
    longestConnectionSeconds: 0,
  };
  const writer = new PcapWriter(path, LINKTYPE_ETHERNET);
  try {
    let start = START_US;
    for (let copy = 0; copy < o.repeat; copy++) {
      const span = writeCopy(writer, o, start, stats);
      stats.copySeconds = span / 1e6;
      start += span + GAP_BETWEEN_COPIES_US;
    }
  } finally {
    writer.close();
  }
  stats.bytes = writer.bytes;
  return stats;
}

/** Writes one copy of the traffic starting at startUs; returns its span in µs. */
function writeCopy(writer: PcapWriter, o: GenerateOptions, startUs: number, stats: CaptureStats): number {
  // The same seed in every copy replays the same connections; only the clocks have moved on.
  const rng = new Rng(o.seed);
  const pool = makePayloadPool(rng);
  const plan = new AddressPlan(rng);
  const open = new MinHeap<Flow>((f) => f.at);
  const meanArrivalGap = 1e6 / ARRIVALS_PER_SECOND;
  let nextArrival = startUs;
  let started = 0;
  let planned = 0;
  let last = startUs;
  for (;;) {
    const top = open.peek();
    const starting = started < o.connections || planned < o.targetPackets;
    if (starting && (top === undefined || nextArrival <= top.at)) {
      const outcome = rng.weighted(OUTCOME_MIX);
      const segments = buildScript(rng, nextArrival, outcome);
      const e = plan.next();
      open.push({
        clientIp: e.clientIp,
        clientPort: e.clientPort,
        serverIp: e.serverIp,
        serverPort: e.serverPort,
        serverTtl: e.serverTtl,
        segments,
        next: 0,
        at: nextArrival,
      });
      started++;
      planned += segments.length;
      stats.outcomes[outcome]++;
      stats.peakOpen = Math.max(stats.peakOpen, open.size);
      stats.longestConnectionSeconds = Math.max(stats.longestConnectionSeconds, (segments[segments.length - 1]!.t - nextArrival) / 1e6);
      nextArrival += Math.round(rng.exp(meanArrivalGap));
      continue;
    }
    if (top === undefined) break;
    const seg = top.segments[top.next++]!;
    writeFrame(writer.buffer, writer.record(seg.t, frameLength(seg)), top, seg, pool);
    last = seg.t;
    if (top.next === top.segments.length) {
      open.pop();
    } else {
      top.at = top.segments[top.next]!.t;
      open.topKeyIncreased();
    }
  }
  stats.packets += planned;
  stats.connections += started;
  return last - startUs;
}
