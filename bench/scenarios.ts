/**
 * What happens to each connection: the outcome mix and one script per outcome. Sizes and idle
 * times are drawn so a typical connection has a handful of request/response exchanges and lives
 * a few seconds; the caps keep every connection well under a minute of capture time.
 */
import { ACK, RST, SYN, type Segment } from './conversation.js';
import { CLIENT, Dialogue, SERVER, segmentLengths } from './dialogue.js';
import type { Rng } from './prng.js';

export type Outcome =
  | 'normal'
  | 'refused'
  | 'unanswered'
  | 'clientReset'
  | 'serverReset'
  | 'retransmission'
  | 'zeroWindow'
  | 'halfClosed';

export const OUTCOME_MIX: readonly (readonly [Outcome, number])[] = [
  ['normal', 0.78],
  ['refused', 0.04],
  ['unanswered', 0.03],
  ['clientReset', 0.03],
  ['serverReset', 0.03],
  ['retransmission', 0.04],
  ['zeroWindow', 0.02],
  ['halfClosed', 0.03],
];

const SECOND = 1_000_000;
/** Linux's SYN retransmission schedule: 1 s, then doubling. */
const SYN_RETRIES_AT = [1, 3, 7].map((s) => s * SECOND);

/** The packets of one connection starting at t0 (µs since the epoch), in capture order. */
export function buildScript(rng: Rng, t0: number, outcome: Outcome): Segment[] {
  const d = new Dialogue(rng, t0);
  switch (outcome) {
    case 'refused':
      refused(d, t0);
      break;
    case 'unanswered':
      unanswered(d, rng, t0);
      break;
    case 'clientReset':
      clientReset(d, rng, t0);
      break;
    case 'serverReset':
      serverReset(d, rng, t0);
      break;
    default:
      established(d, rng, t0, outcome);
  }
  return d.conv.finish();
}

function requestBytes(rng: Rng): number {
  return rng.weighted([
    [rng.int(60, 700), 0.7],
    [rng.int(701, 1448), 0.2],
    [rng.int(1449, 6 * 1448), 0.1],
  ]);
}

function responseBytes(rng: Rng): number {
  return rng.weighted([
    [rng.int(100, 1448), 0.45],
    [rng.int(1449, 8 * 1448), 0.4],
    [rng.int(8 * 1448 + 1, 40 * 1448), 0.15],
  ]);
}

/** Time from the handshake's ACK, or the previous exchange, to the next request. */
function idle(rng: Rng, first: boolean): number {
  return first ? rng.int(10, 2000) : Math.round(Math.min(4 * SECOND, rng.exp(0.8 * SECOND)));
}

/** Connections that get through the handshake and exchange data, then close in some way. */
function established(d: Dialogue, rng: Rng, t0: number, outcome: Outcome): void {
  let t = d.handshake(t0);
  const exchanges = rng.weighted([
    [1, 0.6],
    [2, 0.25],
    [3, 0.1],
    [4, 0.05],
  ]);
  const special = rng.int(0, exchanges - 1);
  for (let e = 0; e < exchanges; e++) {
    const loseTail = outcome === 'retransmission' && e === special;
    const zeroWindow = outcome === 'zeroWindow' && e === special;
    // A zero-window episode needs a response longer than the first flight of 10 segments.
    const response = zeroWindow ? rng.int(14 * 1448, 40 * 1448) : responseBytes(rng);
    t = d.exchange(t + idle(rng, e === 0), requestBytes(rng), response, { loseTail, zeroWindow });
  }
  // Keep-alive connections sit idle until a side's timeout closes them.
  t += Math.round(Math.min(20 * SECOND, rng.exp(4 * SECOND)));
  if (outcome === 'halfClosed') d.halfClose(t, rng.chance(0.5));
  else d.close(t, rng.chance(0.6));
}

/** Nobody listens on the port: the server's kernel answers the SYN with RST-ACK. */
function refused(d: Dialogue, t0: number): void {
  // A reset for a segment without ACK has sequence number 0.
  d.conv.server.isn = 0;
  d.conv.send(CLIENT, t0, SYN);
  d.conv.send(SERVER, t0 + d.rtt, RST | ACK, 0, { bare: true });
}

/** A firewall drops the SYN: the client retransmits it at 1, 2 and 4 s intervals. */
function unanswered(d: Dialogue, rng: Rng, t0: number): void {
  d.conv.send(CLIENT, t0, SYN);
  for (const at of SYN_RETRIES_AT) d.conv.send(CLIENT, t0 + at + rng.int(0, 500), SYN, 0, { seq: 0 });
}

/**
 * The client application closes while the response is still arriving: its kernel sends RST-ACK,
 * then answers every server segment already in flight with a bare RST (the socket is gone).
 */
function clientReset(d: Dialogue, rng: Rng, t0: number): void {
  const conv = d.conv;
  const start = d.exchangeStart(d.handshake(t0) + idle(rng, true), requestBytes(rng));
  const lens = segmentLengths(rng.int(4 * 1448, 10 * 1448));
  const resetAfter = rng.int(1, lens.length - 2);
  let resetAt = Infinity;
  let unacked = 0;
  let ts = start;
  for (let i = 0; i < lens.length && ts < resetAt + d.rtt; i++, ts += d.gap) {
    conv.send(SERVER, ts, ACK, lens[i]!);
    if (resetAt < Infinity) {
      conv.send(CLIENT, ts + d.react, RST, 0, { bare: true });
    } else if (i === resetAfter) {
      resetAt = ts + d.react;
      conv.send(CLIENT, resetAt, RST | ACK);
    } else if (++unacked === 2) {
      conv.send(CLIENT, ts + d.react, ACK);
      unacked = 0;
    }
  }
}

/** The server application aborts (crash, limit hit), sometimes after part of the response. */
function serverReset(d: Dialogue, rng: Rng, t0: number): void {
  const start = d.exchangeStart(d.handshake(t0) + idle(rng, true), requestBytes(rng));
  let t = start;
  if (rng.chance(0.5)) {
    // Two segments, so the client acks at once and has nothing pending when the reset arrives.
    d.response(start, rng.int(1449, 2 * 1448));
    t = d.conv.server.lastT + rng.int(100, 5000);
  }
  d.conv.send(SERVER, t, RST | ACK);
}
