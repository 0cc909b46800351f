/**
 * One connect() across the records Zeek's attempt timer cut it into.
 *
 * Zeek gives up on an unanswered SYN after tcp_attempt_delay (5 s), so a connect() whose first
 * SYNs got no answer becomes several records on the same 4-tuple with the same initial sequence
 * number: SYNs [0 1 3] [7] [15] … Each record the timer cut is remembered (DiagnosisMemory); a
 * later record of the same attempt — unanswered (connect-timeout) or answered at last
 * (slow-connect) — takes the earlier ones over and tells the whole attempt.
 */
import type { CallOutcome } from '../../analyze/records.js';
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

/**
 * Two SYN intervals (seconds) that are the same step of a kernel timer: the timer fires a few
 * milliseconds to a few per cent late (measured: 1.02–1.03 s for 1 s, 4.19 s for 4 s).
 */
function near(x: number, want: number): boolean {
  return Math.abs(x - want) <= want * 0.25 + 0.05;
}

/**
 * The intervals between this record's SYNs (seconds), rebuilt from what the evidence keeps of them
 * — the first and the latest interval, how many grew (synBackoffs: by BACKOFF_FACTOR or more), and
 * the span — if they fit the one shape both of Linux's schedules have: some equal intervals, then
 * doubling ones (tcp_retransmit_timer). The rebuilt list must give back the span and the latest
 * interval; null when it does not (another shape: no kernel's SYN timer).
 */
function recordIntervals(ctx: DiagnosisContext): number[] | null {
  const o = ctx.orig.ev;
  const n = o.syns - 1;
  if (n <= 0) return [];
  const r = o.rare!;
  const first = r.synFirstGapMs / 1000;
  if (n === 1) return [first];
  const grew = r.synBackoffs;
  const list: number[] = [];
  for (let i = 0; i < n - grew; i++) list.push(first);
  for (let i = 1; i <= grew; i++) list.push(first * 2 ** i);
  let sum = 0;
  for (const x of list) sum += x;
  if (!near((o.synLastMs - o.synFirstMs) / 1000, sum) || !near(r.synPrevGapMs / 1000, list[list.length - 1]!)) return null;
  return list;
}

/**
 * How a connect()'s SYNs were spaced, when they follow a Linux schedule: `linear` intervals of the
 * initial RTO (`rto`, 1 s: TCP_TIMEOUT_INIT), then `doublings` intervals each twice the one before
 * (capped at TCP_RTO_MAX, 120 s). The classic schedule (1, 2, 4, 8 … s) has linear = 1; since
 * Linux 6.5, net.ipv4.tcp_syn_linear_timeouts (default 4) keeps the first retries at the initial
 * RTO: 1, 1, 1, 1, 1, 2, 4 … s, linear = tcp_syn_linear_timeouts + 1 (tcp_retransmit_timer doubles
 * only once more retries than that were sent). Only intervals of one connect() count — SYNs with
 * one initial sequence number on one 4-tuple — never separate connections an application opens
 * at a steady pace.
 */
export interface SynSchedule {
  rto: number;
  linear: number;
  doublings: number;
}

/** The attempt's schedule, or null: fewer than two intervals, or a shape no Linux schedule has. */
export function synSchedule(a: ConnectAttempt): SynSchedule | null {
  const iv = a.intervals;
  if (iv === null || iv.length < 2) return null;
  let linear = 1;
  let doublings = 0;
  for (let i = 1; i < iv.length; i++) {
    const x = iv[i]!;
    const prev = iv[i - 1]!;
    if (doublings === 0 && near(x, prev)) linear++;
    else if (near(x, Math.min(2 * prev, TCP_RTO_MAX))) doublings++;
    else if (!(doublings > 0 && prev >= TCP_RTO_MAX * 0.8 && near(x, prev))) return null;
  }
  return { rto: iv[0]!, linear, doublings };
}

/** TCP_RTO_MAX: the longest the kernel waits between two SYNs (seconds). */
const TCP_RTO_MAX = 120;
/** net.ipv4.tcp_syn_retries' default. */
const SYN_RETRIES = 6;
/** net.ipv4.tcp_syn_linear_timeouts' default (Linux 6.5 and later; 0 before). */
const SYN_LINEAR_TIMEOUTS = 4;
/** MAX_TCP_SYNCNT: the kernel's upper bound of tcp_syn_retries (and TCP_SYNCNT) and of tcp_syn_linear_timeouts. */
const MAX_TCP_SYNCNT = 127;
/** The most SYNs any connect() sends, whatever the sysctls: the first and every retry allowed. */
const MAX_SYNS_EVER = 1 + MAX_TCP_SYNCNT + MAX_TCP_SYNCNT;

/**
 * The most SYNs one connect() with default sysctls sends: 1 + tcp_syn_retries, plus
 * tcp_syn_linear_timeouts on kernels that have it (tcp_write_timeout adds them to the retries of a
 * SYN-SENT socket): 7 on the classic schedule, 11 on Linux ≥ 6.5. A linear run longer than the
 * default means the sysctl was raised, and the attempt may go on longer.
 */
export function maxSynsPerConnect(s: SynSchedule | null): number {
  if (s === null) return 1 + SYN_RETRIES + SYN_LINEAR_TIMEOUTS;
  if (s.linear === 1 && s.doublings > 0) return 1 + SYN_RETRIES;
  // An evenly spaced run grows `linear` with every SYN, so the sysctl it implies would always allow
  // one more: bound it by what the kernel accepts, or a SYN a second with one ISN for hours would be
  // told as one connect() of thousands of SYNs, each record's finding listing every record before it.
  return Math.min(MAX_SYNS_EVER, 1 + SYN_RETRIES + Math.max(SYN_LINEAR_TIMEOUTS, s.linear - 1));
}

/**
 * When connect() gives up with ETIMEDOUT (seconds after the first SYN), with default sysctls
 * (tcp_syn_retries = 6): after the last SYN the kernel waits one more doubled RTO. Classic:
 * 1+2+…+32 s, then 64 s: ~127 s. With tcp_syn_linear_timeouts = 4: five 1 s intervals, then
 * 2+…+32 s and 64 s: ~131 s. null when the schedule does not tell which.
 */
export function timeoutSeconds(s: SynSchedule | null): number | null {
  if (s === null) return null;
  // The initial RTO is 1 s (TCP_TIMEOUT_INIT) unless a BPF program changed it; the SYNs come a
  // little late, and that lateness is not the schedule's.
  const rto = near(s.rto, 1) ? 1 : s.rto;
  if (s.linear === 1) return Math.round(127 * rto);
  return Math.round((Math.max(s.linear, SYN_LINEAR_TIMEOUTS + 1) + 126) * rto);
}

/** "~127 s", or both schedules' times when the SYNs seen do not tell which. */
export function timeoutText(s: SynSchedule | null): string {
  const t = timeoutSeconds(s);
  return t !== null ? `~${t} s` : '~127 s, ~131 s on Linux ≥ 6.5 (net.ipv4.tcp_syn_linear_timeouts = 4)';
}

/** What connect() returns when its SYNs are never answered, after `timeout` (timeoutText). */
export function connectTimedOut(timeout: string): CallOutcome[] {
  return [{ call: 'connect', errno: 'ETIMEDOUT', note: `after tcp_syn_retries (${timeout})` }];
}

/**
 * The spacing of the attempt's SYNs in words, for "3 SYNs over 3.0 s (…)"; '' when nothing can be
 * said. Evenly spaced SYNs are described, not claimed as a kernel's: only a run that goes on to
 * double is both schedules' signature.
 */
export function scheduleWords(a: ConnectAttempt, s: SynSchedule | null): string {
  if (s === null) return a.backoffs >= 1 ? 'growing intervals' : '';
  if (s.linear === 1) return 'doubling intervals';
  const apart = seconds(s.rto);
  if (s.doublings > 0) {
    return `${s.linear} intervals of ${apart}, then doubling: Linux ≥ 6.5 with net.ipv4.tcp_syn_linear_timeouts = ${s.linear - 1}`;
  }
  return `evenly ${apart} apart${near(s.rto, 1) ? ', like the first retries of Linux ≥ 6.5 with net.ipv4.tcp_syn_linear_timeouts' : ''}`;
}

/** This record's SYNs added to the earlier records of the same attempt (if any). */
export function extendAttempt(ctx: DiagnosisContext, earlier: ConnectAttempt | undefined): ConnectAttempt {
  const o = ctx.orig.ev;
  const r = o.rare;
  const piece = { id: ctx.c.id, syns: o.syns, firstTime: epochOf(ctx, o.synFirstMs), lastTime: epochOf(ctx, o.synLastMs) };
  const ownLastGap = o.syns > 1 ? r!.synPrevGapMs / 1000 : 0;
  const ownBackoffs = r?.synBackoffs ?? 0;
  const own = recordIntervals(ctx);
  if (earlier === undefined) return { tuple: '', pieces: [piece], syns: o.syns, backoffs: ownBackoffs, firstFrame: o.synFirstFrame, lastGap: ownLastGap, intervals: own };
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
    intervals: earlier.intervals !== null && own !== null ? [...earlier.intervals, cross, ...own] : null,
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
