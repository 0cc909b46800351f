/**
 * One connect() across the records Zeek's attempt timer cut it into.
 *
 * Zeek gives up on an unanswered SYN after tcp_attempt_delay (5 s), so a connect() whose first
 * SYNs got no answer becomes several records on the same 4-tuple with the same initial sequence
 * number: SYNs [0 1 3] [7] [15] … Each record the timer cut is remembered (DiagnosisMemory); a
 * later record of the same attempt — unanswered (connect-timeout) or answered at last
 * (slow-connect) — takes the earlier ones over and tells the whole attempt.
 */
import { type ConnectAttempt, type DiagnosisContext, epochOf, seconds, tupleKey } from '../context.js';
import { BACKOFF_FACTOR } from '../../tcp/evidence.js';
import type { Connection } from '../../tcp/connection.js';

/**
 * The attempt's key in DiagnosisMemory: the 4-tuple's flow hash mixed with the initial sequence
 * number. A number, so that every connection with a SYN can ask cheaply; a hit is confirmed on
 * the 4-tuple itself (takeAttempt).
 */
export function attemptKey(c: Connection, isn: number): number {
  return Math.imul(c.hash ^ Math.imul(isn, 0x9e3779b1), 0x85ebca6b) | 0;
}

/** The earlier records of this connection's connect attempt, if Zeek's timer cut it (removed from memory). */
export function takeEarlierAttempt(ctx: DiagnosisContext): ConnectAttempt | undefined {
  const o = ctx.orig.ev;
  if (o.syns === 0 || !ctx.memory.hasAttempt(attemptKey(ctx.c, o.synIsn))) return undefined;
  return ctx.memory.takeAttempt(attemptKey(ctx.c, o.synIsn), tupleKey(ctx.c));
}

/** This record's SYNs added to the earlier records of the same attempt (if any). */
export function extendAttempt(ctx: DiagnosisContext, earlier: ConnectAttempt | undefined): ConnectAttempt {
  const o = ctx.orig.ev;
  const r = o.rare;
  const piece = { id: ctx.c.id, syns: o.syns, firstTime: epochOf(ctx, o.synFirstMs), lastTime: epochOf(ctx, o.synLastMs) };
  const ownLastGap = o.syns > 1 ? r!.synPrevGapMs / 1000 : 0;
  const ownBackoffs = r?.synBackoffs ?? 0;
  if (earlier === undefined) return { tuple: '', pieces: [piece], syns: o.syns, backoffs: ownBackoffs, firstFrame: o.synFirstFrame, lastGap: ownLastGap };
  // The interval across the cut, compared with the one before it and with the one after it.
  const cross = piece.firstTime - earlier.pieces[earlier.pieces.length - 1]!.lastTime;
  let backoffs = earlier.backoffs + ownBackoffs;
  if (earlier.lastGap > 0 && cross >= earlier.lastGap * BACKOFF_FACTOR) backoffs++;
  if (o.syns > 1 && r!.synFirstGapMs / 1000 >= cross * BACKOFF_FACTOR) backoffs++;
  return {
    tuple: earlier.tuple,
    pieces: [...earlier.pieces, piece],
    syns: earlier.syns + o.syns,
    backoffs,
    firstFrame: earlier.firstFrame,
    lastGap: o.syns > 1 ? ownLastGap : cross,
  };
}

/** Remembers an attempt whose record Zeek's timer ended while connect() may still be retrying. */
export function rememberAttempt(ctx: DiagnosisContext, a: ConnectAttempt): void {
  if (a.tuple === '') a.tuple = tupleKey(ctx.c);
  ctx.memory.noteAttempt(attemptKey(ctx.c, ctx.orig.ev.synIsn), a);
}

/** "3 SYNs in #1 (0–3.0 s), 1 in #2 (7.0 s) and 1 in this record, #3 (15 s)": times after the first SYN. */
export function scheduleText(a: ConnectAttempt, thisId: number): string {
  const t0 = a.pieces[0]!.firstTime;
  const after = (t: number): string => (t === t0 ? '0' : seconds(t - t0));
  const parts = a.pieces.map((p, i) => {
    const when = p.syns > 1 ? `${after(p.firstTime)}–${seconds(p.lastTime - t0)}` : after(p.lastTime);
    return `${p.syns}${i === 0 ? ` SYN${p.syns === 1 ? '' : 's'}` : ''} in ${p.id === thisId ? `this record, #${p.id}` : `#${p.id}`} (${when})`;
  });
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
