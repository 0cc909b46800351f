/**
 * Zero window: a receiver advertised a window of 0 — its receive buffer was full because its
 * application stopped reading (a slow reader, not a slow network: the data arrived, it just was
 * not consumed). The sender must stop; it sends zero-window probes until the window opens. On
 * the sender, a blocking send() waits, a non-blocking one fails with EAGAIN.
 */
import { type DiagnosisContext, type FindingParts, type SideView, epochOf, peerOf, seconds } from '../context.js';

function one(ctx: DiagnosisContext, s: SideView, out: FindingParts[]): void {
  const r = s.ev.rare;
  if (r === null || r.zeroWindows === 0) return;
  const peer = peerOf(ctx, s);
  const open = r.zwStartMs >= 0;
  const lastOpenMs = open ? Math.max(r.zwLastMs, Math.round((ctx.observedUntil - ctx.c.startTime) * 1000)) - r.zwStartMs : 0;
  const total = (r.zwTotalMs + lastOpenMs) / 1000;
  const longest = Math.max(r.zwLongestMs, lastOpenMs) / 1000;
  const probes = peer.ev.rare?.zwProbes ?? 0;
  const sendCall = { call: 'send', errno: 'EAGAIN', note: 'non-blocking; blocking send() waits' };
  out.push({
    kind: 'zero-window',
    by: s.side,
    reason: 'NONE',
    confidence: 0.9,
    frames: [r.zwFirstFrame, r.zwLastFrame, r.zwReopenFrame],
    time: epochOf(ctx, r.zwFirstMs),
    state: null,
    candidates: [],
    calls: s.side === 'orig' ? { orig: [], resp: [sendCall] } : { orig: [sendCall], resp: [] },
    summary:
      `${s.Label} advertised a zero window from frame ${r.zwFirstFrame} (${r.zwEpisodes}×, ${seconds(total)} in all, longest ${seconds(longest)}${open ? ', still shut at the end' : ''}): ` +
      `its application stopped reading — a slow reader, not a slow network. ${peer.Who} had to wait${probes > 0 ? ` (${probes} zero-window probe${probes === 1 ? '' : 's'})` : ''}.`,
    advice: `What blocks ${s.who}'s reader (a lock, slow disk or database, full downstream queue)? A bigger buffer only delays the stall.`,
    rstText: null,
  });
}

export function zeroWindow(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
}
