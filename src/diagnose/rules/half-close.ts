/**
 * Half-close stall: one side sent FIN and the other acknowledged it, but never closed — no FIN,
 * no RST — and went silent. That side's socket sits in CLOSE_WAIT: its application got end of
 * stream (recv() returned 0) and never called close() — the seed's file-descriptor leak. The
 * closer waits in FIN_WAIT2 (an orphaned one times out after tcp_fin_timeout, 60 s, silently).
 */
import { type DiagnosisContext, type FindingParts, type Side, type SideView, clock, epochOf, peerOf, seconds } from '../context.js';
import { sharedCalls } from '../errno.js';

/** The closer's calls; the silent side's, and theirs when a new connection's RST is about to kill the stale socket. */
const CLOSER_WAITS = sharedCalls({ call: 'recv', errno: null, note: 'waits' });
const END_OF_STREAM = sharedCalls({ call: 'recv', errno: null, note: '0: end of stream' });
const END_OF_STREAM_THEN_RESET = sharedCalls(
  { call: 'recv', errno: null, note: '0: end of stream' },
  { call: 'send', errno: 'EPIPE', note: 'once the new connection\'s RST kills it' },
);

/** The calls, by the silent side, when the record ended otherwise and when its 4-tuple was reused (shared, frozen). */
const STALL_CALLS: Record<Side, { ended: FindingParts['calls']; reused: FindingParts['calls'] }> = {
  orig: { ended: { orig: END_OF_STREAM, resp: CLOSER_WAITS }, reused: { orig: END_OF_STREAM_THEN_RESET, resp: CLOSER_WAITS } },
  resp: { ended: { orig: CLOSER_WAITS, resp: END_OF_STREAM }, reused: { orig: CLOSER_WAITS, resp: END_OF_STREAM_THEN_RESET } },
};

function one(ctx: DiagnosisContext, closer: SideView, out: FindingParts[]): void {
  const cv = closer.ev;
  const other = peerOf(ctx, closer);
  const ov = other.ev;
  if (cv.fins === 0 || ov.fins > 0 || ov.rstCount > 0 || cv.rstCount > 0) return;
  if (cv.finAckedFrame === 0) return; // never acknowledged: the peer may be gone — not a CLOSE_WAIT story
  // A connection seen from its start, or a silent side that had talked: otherwise a fragment of something older.
  if (ctx.orig.ev.syns === 0 && ov.dataSegs === 0) return;
  const finAt = epochOf(ctx, cv.finMs);
  const lastFromOther = ctx.c.endpointLastTime(other.e);
  const quietSince = Math.max(finAt, lastFromOther);
  const quiet = ctx.observedUntil - quietSince;
  if (quiet < 1) return;
  const confidence = quiet >= 60 ? 0.9 : quiet >= 5 ? 0.75 : 0.5;
  const sentAfter = ov.lastDataFrame > cv.finFrame;
  // Ended because a new SYN reused the 4-tuple: the stale CLOSE_WAIT socket is about to be reset by
  // the port-reuse collision, and its application's next send() fails with EPIPE.
  const reused = ctx.endReason === 'reused';
  out.push({
    kind: 'half-close-stall',
    by: other.side,
    reason: 'NONE',
    confidence,
    frames: [cv.finFrame, cv.finAckedFrame],
    time: finAt,
    state: 'TCP_CLOSE_WAIT',
    candidates: [],
    calls: reused ? STALL_CALLS[other.side].reused : STALL_CALLS[other.side].ended,
    summary:
      `${closer.Label} closed (FIN, frame ${cv.finFrame} at ${clock(finAt)}); ${other.label} acknowledged it (frame ${cv.finAckedFrame})${sentAfter ? ', sent more data' : ''} ` +
      `but never closed: silent for ${seconds(quiet)}. It sits in CLOSE_WAIT: its application got end of stream and never called close() (an fd leak if it repeats).` +
      `${reused ? ' Then a new SYN reused this 4-tuple: the stale socket answers it with an ACK for the old connection and gets reset (see the port-reuse finding); a send() on it then fails with EPIPE.' : ''}`,
    advice: `${other.Who}'s application must close() when recv() returns 0 and on every error path; ss -tan state close-wait / tcpsleuth leaks finds it.`,
    rstText: null,
  });
}

export function halfCloseStall(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
}
