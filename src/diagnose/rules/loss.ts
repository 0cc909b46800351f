/**
 * Loss statistics per direction, telling the two kinds apart:
 * - network loss: segments the sender had to send again (retransmissions);
 * - capture loss: bytes the receiver acknowledged that the capture never showed (Zeek's
 *   missed_bytes, ack_lost_segment) — the receiver had them, so the network delivered them; the
 *   capture dropped them (tcpdump's "dropped by kernel", a busy mirror port).
 * Segments that started beyond the highest sequence seen are reordering or capture loss.
 */
import { type DiagnosisContext, type FindingParts, type SideView, bytesText } from '../context.js';

function stats(s: SideView): string {
  const r = s.ev.rare;
  const total = s.ev.dataSegs;
  const rex = r?.rexmits ?? 0;
  const jumps = r?.seqJumps ?? 0;
  const pct = total > 0 && rex > 0 ? ` ${((rex / total) * 100).toFixed(rex * 100 < total ? 2 : 1)}% of ${total}` : '';
  return `${s.who} sent ${rex} again${rex > 0 ? ` (${bytesText(r!.rexmitBytes)})` : ''}${pct}${jumps > 0 ? `, ${jumps} out of order` : ''}`;
}

export function loss(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev.rare;
  const r = ctx.resp.ev.rare;
  const rex = (o?.rexmits ?? 0) + (r?.rexmits ?? 0);
  if (rex > 0) {
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
      summary: `Network loss: ${stats(ctx.orig)}; ${stats(ctx.resp)}.`,
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
      summary: `Capture loss: ${bytesText(ctx.c.missedBytes)} acknowledged but never captured (ack_lost_segment): the capture dropped them, not the network.`,
      advice: 'Capture with a bigger buffer (tcpdump -B) or a filter; watch "dropped by kernel".',
      rstText: null,
    });
  }
}
