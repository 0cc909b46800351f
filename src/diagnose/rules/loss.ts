/**
 * Loss statistics per direction, telling the two kinds apart:
 * - network loss: segments the sender had to send again (retransmissions);
 * - capture loss: bytes the receiver acknowledged that the capture never showed (Zeek's
 *   missed_bytes, ack_lost_segment) — the receiver had them, so the network delivered them; the
 *   capture dropped them (tcpdump's "dropped by kernel", a busy mirror port).
 * Segments that started beyond the highest sequence seen are reordering or capture loss.
 * Retransmissions into a receive window that was never full nor shut mean the network, not the
 * receiver, set the pace: a slow or lossy path (the window-full rule tells the other stories).
 */
import { type DiagnosisContext, type FindingParts, type SideView, bytesText, peerOf } from '../context.js';

function stats(s: SideView): string {
  const r = s.ev.rare;
  const total = s.ev.dataSegs;
  const rex = r?.rexmits ?? 0;
  const jumps = r?.seqJumps ?? 0;
  const pct = total > 0 && rex > 0 ? ` ${((rex / total) * 100).toFixed(rex * 100 < total ? 2 : 1)}% of ${total}` : '';
  return `${s.who} sent ${rex} again${rex > 0 ? ` (${bytesText(r!.rexmitBytes)})` : ''}${pct}${jumps > 0 ? `, ${jumps} out of order` : ''}`;
}

/** The sender retransmitted, and the receiver's window (its scale known) was never full nor shut. */
function networkPaced(ctx: DiagnosisContext, s: SideView): boolean {
  const receiver = peerOf(ctx, s);
  return receiver.ev.winShift >= 0 && s.ev.rare!.windowFull === 0 && (receiver.ev.rare?.zeroWindows ?? 0) === 0;
}

/** "200 bytes of the client's data" per direction that lost some to the capture. */
function missed(ctx: DiagnosisContext): string {
  return [ctx.orig, ctx.resp]
    .filter((s) => s.e.missedBytes > 0)
    .map((s) => `${bytesText(s.e.missedBytes)} of ${s.who}'s data`)
    .join(' and ');
}

export function loss(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev.rare;
  const r = ctx.resp.ev.rare;
  const rex = (o?.rexmits ?? 0) + (r?.rexmits ?? 0);
  if (rex > 0) {
    const senders = [ctx.orig, ctx.resp].filter((s) => (s.ev.rare?.rexmits ?? 0) > 0);
    const paced = senders.every((s) => networkPaced(ctx, s));
    const frames = [o?.rexmitFirstFrame ?? 0, r?.rexmitFirstFrame ?? 0];
    out.push({
      kind: 'retransmissions',
      by: 'network',
      reason: 'NONE',
      confidence: 0.8,
      frames,
      time: ctx.c.startTime,
      state: null,
      candidates: [],
      calls: { orig: [], resp: [] },
      summary:
        `Network loss: ${stats(ctx.orig)}; ${stats(ctx.resp)}.` +
        `${paced ? ` The receive window was never full nor shut: a slow or lossy network set the pace, not a slow reader or a small buffer.` : ''}`,
      advice: 'Check interface errors and drops (ip -s link, ethtool -S) and congestion on the path.',
      rstText: null,
    });
  }
  if (ctx.c.missedBytes > 0) {
    out.push({
      kind: 'capture-loss',
      by: 'network',
      reason: 'NONE',
      confidence: 0.9,
      frames: [],
      time: ctx.c.startTime,
      state: null,
      candidates: [],
      calls: { orig: [], resp: [] },
      summary: `Capture loss: ${missed(ctx)} acknowledged but never captured (ack_lost_segment): the capture dropped them, not the network.`,
      advice: 'Capture with a bigger buffer (tcpdump -B) or a filter; watch "dropped by kernel".',
      rstText: null,
    });
  }
}
