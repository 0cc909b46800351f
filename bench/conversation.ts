/**
 * Builds the packet script of one TCP connection as seen by a capture point next to the client.
 *
 * Scenarios only say who sends which flags and how many payload bytes when; sequence and
 * acknowledgment numbers, TCP timestamps and IP IDs follow from that. Each side acknowledges
 * what it could have received by then: the client everything the capture point saw before,
 * the server only what passed the capture point one round-trip earlier (half an RTT to reach
 * it, half for its packet to come back). So the acks in the file are causal by construction.
 */
import type { Rng } from './prng.js';
import { payloadOffset } from './payload.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** MSS 1460 less the 12 bytes of the timestamp option every data segment carries. */
export const SEGMENT_PAYLOAD = 1448;

export type OptionSet = 'syn' | 'timestamps' | 'none';

/** One packet of a script, ready to encode. */
export interface Segment {
  /** Capture time, µs since the epoch. */
  t: number;
  fromClient: boolean;
  flags: number;
  seq: number;
  ack: number;
  window: number;
  payloadLen: number;
  /** Where the payload starts in the shared payload pool. */
  payloadAt: number;
  options: OptionSet;
  tsVal: number;
  tsEcr: number;
  ipId: number;
}

/** The finished script with the addresses it runs between. */
export interface Flow {
  clientIp: number;
  clientPort: number;
  serverIp: number;
  serverPort: number;
  serverTtl: number;
  segments: Segment[];
  /** Index of the next segment to write. */
  next: number;
  /** Capture time of that segment: the flow's key in the generator's heap. */
  at: number;
}

export interface SendOptions {
  /** Sequence number relative to the ISN, for a retransmission or a probe; default: the next new byte. */
  seq?: number;
  window?: number;
  /** Lost after the capture point: the receiver never sees it, so it does not advance its ack. */
  lost?: boolean;
  /** A reset from a kernel with no socket for the segment: window 0 and no options. */
  bare?: boolean;
}

interface Sent {
  t: number;
  start: number;
  end: number;
  tsVal: number;
  lost: boolean;
}

export class Side {
  readonly sent: Sent[] = [];
  /** Relative sequence number of the next new byte (SYN and FIN count as one). */
  sndNxt = 0;
  /** Relative sequence number, in the peer's space, of the next byte expected from the peer. */
  rcvNxt = 0;
  /** The peer's latest TSval, echoed in TSecr. */
  tsRecent = 0;
  lastT = -Infinity;
  private cursor = 0;

  constructor(
    public isn: number,
    readonly tsBase: number,
    public ipId: number,
    readonly window: number,
    readonly synWindow: number,
    /** How much older than its own packet's capture time the newest peer packet it can have seen is: 0 for the client, one RTT for the server. */
    readonly lag: number,
  ) {}

  /** Takes in the peer's packets that reached this side by capture time `limit`. */
  receiveUntil(peer: Side, limit: number): void {
    const sent = peer.sent;
    while (this.cursor < sent.length && sent[this.cursor]!.t <= limit) {
      const s = sent[this.cursor++]!;
      if (s.lost) continue;
      // Cumulative ack: only contiguous data counts (scenarios lose only a flight's last segment).
      if (s.start <= this.rcvNxt && s.end > this.rcvNxt) this.rcvNxt = s.end;
      this.tsRecent = s.tsVal;
    }
  }
}

export class Conversation {
  readonly client: Side;
  readonly server: Side;
  private readonly segments: Segment[] = [];
  private readonly clientSalt: number;
  private readonly serverSalt: number;
  private end = 0;

  /** t0 is the connection's start in µs since the epoch: both hosts' clocks derive from it. */
  constructor(rng: Rng, t0: number, readonly rtt: number) {
    // ISNs follow RFC 6528 (a 4 µs clock plus a per-connection secret hash, random here) and TSvals a 1 ms clock, so a
    // 4-tuple that comes back later, as in the repeated copies, starts from fresh numbers.
    const isn = (): number => (rng.u32() + Math.floor(t0 / 4)) >>> 0;
    // Linux's SYN windows (64240 and 65160 with a 1460 MSS); after the handshake, window fields
    // of 501 to 3000, that is 64 KiB to 375 KiB with window scaling by 7, as autotuning leaves them.
    this.client = new Side(isn(), rng.u32(), rng.int(0, 0xffff), rng.int(501, 3000), 64240, 0);
    this.server = new Side(isn(), rng.u32(), rng.int(0, 0xffff), rng.int(501, 3000), 65160, rtt);
    this.clientSalt = rng.u32();
    this.serverSalt = rng.u32();
  }

  /** Capture time of the latest packet so far. */
  get lastTime(): number {
    return this.end;
  }

  /** Appends one packet and returns its sequence number relative to the sender's ISN. */
  send(fromClient: boolean, t: number, flags: number, len = 0, o: SendOptions = {}): number {
    const me = fromClient ? this.client : this.server;
    const peer = fromClient ? this.server : this.client;
    // Acks are computed from the packets each side sent earlier, so a side's packets must be built in time order.
    if (t < me.lastT) throw new Error(`script out of order: ${fromClient ? 'client' : 'server'} packet at ${t} after ${me.lastT}`);
    me.lastT = t;
    me.receiveUntil(peer, t - me.lag);
    const start = o.seq ?? me.sndNxt;
    const end = start + len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (end > me.sndNxt) me.sndNxt = end;
    const tsVal = (me.tsBase + Math.floor(t / 1000)) >>> 0;
    me.sent.push({ t, start, end, tsVal, lost: o.lost === true });
    const bare = o.bare === true;
    this.segments.push({
      t,
      fromClient,
      flags,
      seq: (me.isn + start) >>> 0,
      ack: flags & ACK ? (peer.isn + me.rcvNxt) >>> 0 : 0,
      window: bare ? 0 : (o.window ?? (flags & SYN ? me.synWindow : me.window)),
      payloadLen: len,
      // The payload depends only on the stream position, so a retransmission repeats the same bytes.
      payloadAt: payloadOffset((fromClient ? this.clientSalt : this.serverSalt) + start),
      options: bare ? 'none' : flags & SYN ? 'syn' : 'timestamps',
      tsVal,
      tsEcr: flags === SYN ? 0 : me.tsRecent,
      ipId: me.ipId++ & 0xffff,
    });
    if (t > this.end) this.end = t;
    return start;
  }

  /** The packets in capture order. */
  finish(): Segment[] {
    // Stable: packets built at the same instant keep their causal order.
    return this.segments.sort((a, b) => a.t - b.t);
  }
}
