/**
 * The building blocks of a TCP connection's life (handshake, request/response exchanges with
 * slow start and delayed ACKs, close), with timing as a capture point near the client sees it:
 * the client reacts within microseconds, the server's reaction shows up one RTT later.
 */
import { ACK, Conversation, FIN, PSH, SEGMENT_PAYLOAD, SYN } from './conversation.js';
import type { Rng } from './prng.js';

export const CLIENT = true;
export const SERVER = false;

/** Linux's minimum delayed-ACK timeout, µs. */
const DELAYED_ACK = 40_000;
/** Linux's minimum retransmission timeout, µs. */
const MIN_RTO = 200_000;
/** Linux's initial congestion window, in segments (RFC 6928). */
const INITIAL_CWND = 10;

export interface ResponseOptions {
  /** The response's last segment is lost after the capture point and sent again after an RTO. */
  loseTail?: boolean;
  /** After the first flight the client's receive buffer is full: it advertises a zero window for a while. */
  zeroWindow?: boolean;
}

/** Splits a byte count into segment payload lengths. */
export function segmentLengths(bytes: number): number[] {
  const lens: number[] = [];
  for (let left = bytes; left > 0; left -= SEGMENT_PAYLOAD) lens.push(Math.min(left, SEGMENT_PAYLOAD));
  return lens;
}

export class Dialogue {
  readonly conv: Conversation;
  /** Round-trip time between the capture point and the server, µs. */
  readonly rtt: number;
  /** How long the client's stack takes to answer a packet, µs. */
  readonly react: number;
  /** Spacing of full-size server segments at the bottleneck link, µs. */
  readonly gap: number;
  /** Spacing of back-to-back client segments on its fast local link, µs. */
  private readonly clientGap: number;

  constructor(
    private readonly rng: Rng,
    t0: number,
  ) {
    this.rtt = Math.round(rng.logUniform(300, 120_000));
    this.react = rng.int(15, 60);
    this.gap = Math.round(rng.logUniform(12, 250));
    this.clientGap = rng.int(5, 30);
    this.conv = new Conversation(rng, t0, this.rtt);
  }

  /** When a reaction of this side to a packet seen at the capture point shows up there. */
  private after(fromClient: boolean): number {
    return fromClient ? this.react : this.rtt;
  }

  /** SYN, SYN-ACK, ACK; returns the time of the client's ACK. */
  handshake(t0: number): number {
    this.conv.send(CLIENT, t0, SYN);
    this.conv.send(SERVER, t0 + this.rtt, SYN | ACK);
    const t = t0 + this.rtt + this.react;
    this.conv.send(CLIENT, t, ACK);
    return t;
  }

  /** A request and its response; returns the time of the last packet. */
  exchange(t: number, requestBytes: number, responseBytes: number, o: ResponseOptions = {}): number {
    this.response(this.exchangeStart(t, requestBytes), responseBytes, o);
    return this.conv.lastTime;
  }

  /** The request and the server's thinking; returns when the response's first segment shows up. */
  exchangeStart(t: number, requestBytes: number): number {
    const segments = segmentLengths(requestBytes).length;
    const requestEnd = this.request(t, requestBytes);
    const think = Math.round(Math.min(1e6, 50 + this.rng.exp(15_000)));
    // An odd last request segment waits for the server's delayed ACK unless the response comes first.
    if (segments % 2 === 1 && think > DELAYED_ACK) this.conv.send(SERVER, requestEnd + this.rtt + DELAYED_ACK, ACK);
    return requestEnd + this.rtt + think;
  }

  /** The client sends `bytes`; the server acks every second segment. Returns the last segment's time. */
  request(t: number, bytes: number): number {
    const lens = segmentLengths(bytes);
    let tc = t;
    for (let i = 0; i < lens.length; i++) {
      if (i > 0) tc += this.clientGap;
      this.conv.send(CLIENT, tc, ACK | (i === lens.length - 1 ? PSH : 0), lens[i]!);
      if (i % 2 === 1) this.conv.send(SERVER, tc + this.rtt, ACK);
    }
    return tc;
  }

  /**
   * The server sends `bytes` starting at capture time t, in slow-start flights (10, 20, 40...
   * segments, each released an RTT after the first ACK of the previous one); the client acks
   * every second segment and delays the ACK of an odd last one.
   */
  response(t: number, bytes: number, o: ResponseOptions = {}): void {
    const conv = this.conv;
    const lens = segmentLengths(bytes);
    let cwnd = INITIAL_CWND;
    let ts = t;
    let unacked = 0;
    let i = 0;
    let lastStart = 0;
    let lastT = t;
    for (;;) {
      const flightEnd = Math.min(lens.length, i + cwnd);
      let firstAck = -1;
      let resume = -1;
      for (; i < flightEnd; i++) {
        const last = i === lens.length - 1;
        const lost = last && o.loseTail === true;
        lastStart = conv.send(SERVER, ts, ACK | (last ? PSH : 0), lens[i]!, { lost });
        lastT = ts;
        if (!lost && ++unacked === 2) {
          const ta = ts + this.react;
          const stall = o.zeroWindow === true && cwnd === INITIAL_CWND && i === flightEnd - 1 && !last;
          conv.send(CLIENT, ta, ACK, 0, stall ? { window: 0 } : {});
          unacked = 0;
          if (firstAck < 0) firstAck = ta;
          if (stall) resume = this.zeroWindowEpisode(ta) + this.rtt;
        }
        ts += this.gap;
      }
      if (i >= lens.length) break;
      ts = Math.max(ts, resume >= 0 ? resume : firstAck + this.rtt);
      cwnd *= 2;
    }
    if (unacked > 0) conv.send(CLIENT, lastT + (this.rng.chance(0.5) ? this.react : DELAYED_ACK), ACK);
    if (o.loseTail === true) {
      const retransmitted = lastT + MIN_RTO + this.rtt;
      conv.send(SERVER, retransmitted, ACK | PSH, lens[lens.length - 1]!, { seq: lastStart });
      conv.send(CLIENT, retransmitted + this.react, ACK);
    }
  }

  /**
   * The client has just advertised a zero window at tz. The server probes on its backed-off RTO
   * timer (Linux's probe: an empty segment one below snd.una), each probe answered with another
   * zero-window ACK, until the application reads and the client sends a window update.
   * Returns the window update's time.
   */
  private zeroWindowEpisode(tz: number): number {
    const conv = this.conv;
    let backoff = MIN_RTO;
    let probe = tz + this.rtt + backoff;
    let answered = tz;
    for (let n = this.rng.int(1, 3); n > 0; n--) {
      conv.send(SERVER, probe, ACK, 0, { seq: conv.server.sndNxt - 1 });
      answered = probe + this.react;
      conv.send(CLIENT, answered, ACK, 0, { window: 0 });
      backoff *= 2;
      probe += backoff;
    }
    const update = answered + Math.round(this.rng.float() * (probe - answered) * 0.9) + 1;
    conv.send(CLIENT, update, ACK);
    return update;
  }

  /** Orderly close started by one side: FIN, ACK (often merged with the peer's FIN), FIN, ACK. */
  close(t: number, byClient: boolean): void {
    const conv = this.conv;
    const peer = !byClient;
    conv.send(byClient, t, FIN | ACK);
    let tp = t + this.after(peer);
    if (this.rng.chance(0.5)) {
      conv.send(peer, tp, FIN | ACK);
    } else {
      conv.send(peer, tp, ACK);
      tp += this.rng.int(50, 5000);
      conv.send(peer, tp, FIN | ACK);
    }
    conv.send(byClient, tp + this.after(byClient), ACK);
  }

  /** One side shuts down its sending direction; the peer's kernel acks the FIN and its application never closes. */
  halfClose(t: number, byClient: boolean): void {
    this.conv.send(byClient, t, FIN | ACK);
    this.conv.send(!byClient, t + this.after(!byClient), ACK);
  }
}
