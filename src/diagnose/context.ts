/**
 * What a rule sees: one finished connection, its two sides with their evidence, how long the
 * capture watched it, and a little memory across connections (which endpoints are listeners,
 * how a reused 4-tuple's previous incarnation ended). Built once per finished connection.
 */
import type { CallOutcome, Finding } from '../analyze/records.js';
import { formatAddress } from '../dissect/packet.js';
import type { ConnState } from '../tcp/conn-state.js';
import type { Connection } from '../tcp/connection.js';
import type { Endpoint } from '../tcp/endpoint.js';
import type { SideEvidence } from '../tcp/evidence.js';
import type { EndReason } from '../tcp/tracker.js';

export type Side = 'orig' | 'resp';

/** Bounds of the cross-connection memory (entries; cleared when full). */
const MEMORY_LIMIT = 65536;

/**
 * The longest a split connect attempt can pause before its next SYN: TCP_RTO_MAX (120 s), the
 * kernel's cap on the SYN retransmission timer. A record continuing an attempt starts within that
 * time of the attempt's last SYN, but it is diagnosed when it ends, which for an answered connect
 * can be much later: so remembered attempts are only forgotten for their age when there are many
 * (ATTEMPT_SOFT_LIMIT). Then the memory follows the rate of unanswered connects, not the length
 * of the capture; a scan that fills it costs only the oldest stories.
 */
export const ATTEMPT_HORIZON = 120;
/** Remembered attempts beyond which those older than ATTEMPT_HORIZON are forgotten. */
export const ATTEMPT_SOFT_LIMIT = 4096;

/** How the previous incarnation of a 4-tuple ended (kept for reused 4-tuples only). */
export interface Incarnation {
  /** Which side had sent a FIN / RST, in the previous incarnation's roles mapped to endpoints. */
  finBy: string[];
  rstBy: string[];
  endTime: number;
}

/** One record of a connect attempt: its SYNs (times in epoch seconds). */
export interface AttemptPiece {
  id: number;
  syns: number;
  firstTime: number;
  lastTime: number;
}

/** An unanswered connect attempt that Zeek's attempt timer cut into records, as far as seen. */
export interface ConnectAttempt {
  /** Its 4-tuple (tupleKey), to confirm a hit on the numeric key; '' until remembered. */
  tuple: string;
  /** Its records so far, in order. */
  pieces: AttemptPiece[];
  syns: number;
  /** Intervals between SYNs that grew (exponential backoff), across the records. */
  backoffs: number;
  /** Frame of the first SYN. */
  firstFrame: number;
  /** Seconds between the latest two SYNs; 0 after one SYN. */
  lastGap: number;
  /**
   * The intervals between its SYNs so far (seconds), as far as the evidence tells them: a record's
   * own intervals are known only in summary (rules/connect-attempt.ts, recordIntervals), so this is
   * null once a record's SYNs did not fit the shape of Linux's schedules.
   */
  intervals: number[] | null;
}

/** Knowledge that outlives one connection, bounded. One per analysis run. */
export class DiagnosisMemory {
  /** Endpoints seen answering a SYN with a SYN-ACK (a listener), by endpointHash. */
  private readonly listeners = new Set<number>();
  /** "a|pa|b|pb" (sorted) of 4-tuples that were reused, with how the old incarnation ended. */
  private readonly previous = new Map<string, Incarnation>();
  /** Connect attempts cut by Zeek's attempt timer, by 4-tuple and initial sequence number (rules/connect-attempt.ts, attemptKey). */
  private readonly attempts = new Map<number, ConnectAttempt>();

  private lastListener = 0;

  noteListener(hash: number): void {
    if (hash === this.lastListener) return;
    this.lastListener = hash;
    if (this.listeners.size >= MEMORY_LIMIT) this.listeners.clear();
    this.listeners.add(hash);
  }

  isListener(hash: number): boolean {
    return this.listeners.has(hash);
  }

  notePrevious(key: string, inc: Incarnation): void {
    if (this.previous.size >= MEMORY_LIMIT) this.previous.clear();
    this.previous.set(key, inc);
  }

  /** The previous incarnation of this 4-tuple, if it ended because this one reused it. */
  takePrevious(key: string): Incarnation | undefined {
    const inc = this.previous.get(key);
    if (inc !== undefined) this.previous.delete(key);
    return inc;
  }

  noteAttempt(key: number, a: ConnectAttempt): void {
    if (this.attempts.size >= ATTEMPT_SOFT_LIMIT) {
      // Attempts are noted as their records end, in time order near enough: the oldest come
      // first in the Map's insertion order, so the stale ones are at its head.
      const horizon = a.pieces[a.pieces.length - 1]!.lastTime - ATTEMPT_HORIZON;
      for (const [k, old] of this.attempts) {
        if (old.pieces[old.pieces.length - 1]!.lastTime >= horizon) break;
        this.attempts.delete(k);
      }
    }
    if (this.attempts.size >= MEMORY_LIMIT) this.attempts.clear();
    // Deleted first, so that a key noted again (a hash collision) moves to the Map's end, in time order.
    this.attempts.delete(key);
    this.attempts.set(key, a);
  }

  /** How many connect attempts are remembered (for tests of the bound). */
  get attemptCount(): number {
    return this.attempts.size;
  }

  /** True if an attempt may be remembered under this key (a cheap test before building the 4-tuple's text). */
  hasAttempt(key: number): boolean {
    return this.attempts.has(key);
  }

  /** The earlier records of this connect attempt, if Zeek's attempt timer cut it (and it is this 4-tuple's). */
  takeAttempt(key: number, tuple: string): ConnectAttempt | undefined {
    const a = this.attempts.get(key);
    if (a === undefined || a.tuple !== tuple) return undefined;
    this.attempts.delete(key);
    return a;
  }
}

/** A number for an (address, port) endpoint, without building a string (collisions only blur listener evidence). */
export function endpointHash(a0: number, a1: number, a2: number, a3: number, port: number): number {
  let h = Math.imul(a3 ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ a2, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ a1, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16) ^ a0, 0x27d4eb2f);
  return Math.imul(h ^ (h >>> 15) ^ port, 0x165667b1) | 0;
}

/** One side of the connection as the rules talk about it. */
export interface SideView {
  side: Side;
  e: Endpoint;
  ev: SideEvidence;
  addr: string;
  port: number;
  /** endpointHash of this endpoint: its key in DiagnosisMemory's listeners. */
  hash: number;
  /** "the client (10.0.0.1:40000)" or "the originator (…)" when no handshake showed who connected. */
  label: string;
  /** The same, capitalised: "The client (10.0.0.1:40000)". */
  Label: string;
  /** "the client"; `Who`: "The client". */
  who: string;
  Who: string;
  /** "client" / "server" / "originator" / "responder". */
  role: string;
}

export interface DiagnosisContext {
  c: Connection;
  connState: ConnState;
  endReason: EndReason;
  /** The time up to which the capture watched this connection (capture end, or when Zeek's timers removed it). */
  observedUntil: number;
  memory: DiagnosisMemory;
  orig: SideView;
  resp: SideView;
  /** The previous incarnation of this 4-tuple (see previousIncarnation); null until asked. */
  previous: Incarnation | undefined | null;
}

export function endpointLabel(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** "addr|port": how an endpoint is named in DiagnosisMemory's incarnations. */
export function endpointKey(addr: string, port: number): string {
  return `${addr}|${port}`;
}

export function tupleKey(c: Connection): string {
  const a = endpointKey(formatAddress(c.origA0, c.origA1, c.origA2, c.origA3), c.origPort);
  const b = endpointKey(formatAddress(c.respA0, c.respA1, c.respA2, c.respA3), c.respPort);
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** How the sentences name a side, by what the wire showed of the roles. */
interface Role {
  role: string;
  who: string;
  Who: string;
}

const CLIENT: Role = { role: 'client', who: 'the client', Who: 'The client' };
const SERVER: Role = { role: 'server', who: 'the server', Who: 'The server' };
const ORIGINATOR: Role = { role: 'originator', who: 'the originator', Who: 'The originator' };
const RESPONDER: Role = { role: 'responder', who: 'the responder', Who: 'The responder' };

function sideView(side: Side, e: Endpoint, addr: string, port: number, hash: number, role: Role): SideView {
  const ep = endpointLabel(addr, port);
  return { side, e, ev: e.ev, addr, port, hash, label: `${role.who} (${ep})`, Label: `${role.Who} (${ep})`, who: role.who, Who: role.Who, role: role.role };
}

export function buildContext(
  c: Connection,
  connState: ConnState,
  endReason: EndReason,
  observedUntil: number,
  memory: DiagnosisMemory,
  origAddr?: string,
  respAddr?: string,
): DiagnosisContext {
  // A handshake names the roles: the SYN's sender is the client, the SYN-ACK's the server.
  const handshake = c.orig.ev.syns > 0 || c.resp.ev.synAcks > 0;
  const orig = sideView(
    'orig',
    c.orig,
    origAddr ?? formatAddress(c.origA0, c.origA1, c.origA2, c.origA3),
    c.origPort,
    endpointHash(c.origA0, c.origA1, c.origA2, c.origA3, c.origPort),
    handshake ? CLIENT : ORIGINATOR,
  );
  const resp = sideView(
    'resp',
    c.resp,
    respAddr ?? formatAddress(c.respA0, c.respA1, c.respA2, c.respA3),
    c.respPort,
    endpointHash(c.respA0, c.respA1, c.respA2, c.respA3, c.respPort),
    handshake ? SERVER : RESPONDER,
  );
  return { c, connState, endReason, observedUntil, memory, orig, resp, previous: null };
}

/** How the previous incarnation of this 4-tuple ended, when this connection took its place (looked up once, on demand). */
export function previousIncarnation(ctx: DiagnosisContext): Incarnation | undefined {
  if (ctx.previous === null) ctx.previous = ctx.memory.takePrevious(tupleKey(ctx.c));
  return ctx.previous;
}

export function peerOf(ctx: DiagnosisContext, s: SideView): SideView {
  return s.side === 'orig' ? ctx.resp : ctx.orig;
}

/** Epoch seconds of a time kept in evidence as ms since the connection's start. */
export function epochOf(ctx: DiagnosisContext, ms: number): number {
  return ctx.c.startTime + ms / 1000;
}

/** "00" … "59", the hours, minutes and seconds of a clock time; "000" … "999", its milliseconds: made once, not for every sentence. */
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => (n < 10 ? `0${n}` : `${n}`));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => `${n < 10 ? '00' : n < 100 ? '0' : ''}${n}`);

/** "12:01:03.412" (UTC), the way a summary sentence cites a time. */
export function clock(t: number): string {
  if (!Number.isFinite(t)) return String(t);
  const ms = Math.round(t * 1000);
  const inDay = ((ms % 86400000) + 86400000) % 86400000;
  const h = Math.floor(inDay / 3600000);
  const m = Math.floor(inDay / 60000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  return `${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}.${THREE_DIGITS[inDay % 1000]}`;
}

export function seconds(s: number): string {
  // The unit follows the rounded figure: 999.6 µs is "1 ms", not "1000 µs".
  const us = Math.round(s * 1e6);
  if (us < 1000) return `${us} µs`;
  const ms = Math.round(s * 1000);
  if (ms < 1000) return `${ms} ms`;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * A duration kept in evidence as whole milliseconds (msSince rounds each time to the nearest
 * millisecond, so a difference is off by up to 1 ms): 0 is "under 1 ms", never "0 µs", and 1 is
 * "about 1 ms" — the true value lies anywhere between 0 and 2 ms.
 */
export function msText(ms: number): string {
  if (ms <= 0) return 'under 1 ms';
  if (ms === 1) return 'about 1 ms';
  return seconds(ms / 1000);
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A finding under construction: every field, with the optional ones made explicit. */
export interface FindingParts {
  kind: string;
  by: Side | 'network';
  reason: string;
  confidence: number;
  /** In any order, with zeros for frames that do not apply: a list of its own, which makeFinding sorts in place. */
  frames: number[];
  time: number;
  state: string | null;
  candidates: string[];
  calls: { orig: readonly CallOutcome[]; resp: readonly CallOutcome[] };
  summary: string;
  advice: string;
  rstText: string | null;
  /** Ids of earlier connection records this finding continues (a connect attempt Zeek's timer split). */
  continues?: number[];
}

/** The first call of each side that reports an error is that side's errno. */
function firstErrno(calls: readonly CallOutcome[]): string | null {
  for (const c of calls) if (c.errno !== null) return c.errno;
  return null;
}

/**
 * A finding's frames as distinct positive frame numbers, ascending: sorted in place, since the
 * list is the finding's own (FindingParts.frames) and a few frames long — no garbage for each finding.
 */
function sortFrames(list: number[]): number[] {
  let n = 0;
  for (let k = 0; k < list.length; k++) {
    const f = list[k]!;
    if (f <= 0) continue;
    let i = n;
    while (i > 0 && list[i - 1]! > f) i--;
    if (i > 0 && list[i - 1] === f) continue;
    for (let j = n; j > i; j--) list[j] = list[j - 1]!;
    list[i] = f;
    n++;
  }
  list.length = n;
  return list;
}

export function makeFinding(p: FindingParts): Finding {
  const frames = sortFrames(p.frames);
  const f: Finding = {
    kind: p.kind,
    by: p.by,
    reason: p.reason,
    confidence: Math.round(p.confidence * 100) / 100,
    frames,
    errno: { orig: firstErrno(p.calls.orig), resp: firstErrno(p.calls.resp) },
    summary: p.summary,
    advice: p.advice,
    state: p.state,
    candidates: p.candidates,
    calls: p.calls,
    time: Math.round(p.time * 1e6) / 1e6,
    rst_text: p.rstText,
  };
  if (p.continues !== undefined) f.continues = p.continues;
  return f;
}
