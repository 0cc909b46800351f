/**
 * Loss statistics per direction, telling the two kinds apart:
 * - network loss: segments the sender had to send again (retransmissions);
 * - capture loss: bytes the receiver acknowledged that the capture never showed (Zeek's
 *   missed_bytes, ack_lost_segment) — the receiver had them, so the network delivered them; the
 *   capture dropped them (tcpdump's "dropped by kernel", a busy mirror port). Zeek also counts
 *   payload a snaplen cut short (tcpdump -s 96/128, header-only captures): when every missed byte
 *   lay in a segment whose header was captured, it is the snaplen, and no loss is reported.
 * Segments that started beyond the highest sequence seen are reordering or capture loss.
 * Retransmissions into a receive window that was never full nor shut mean the network, not the
 * receiver, set the pace: a slow or lossy path (the window-full rule tells the other stories).
 */
import { type DiagnosisContext, type FindingParts, type SideView, bytesText, peerOf } from '../context.js';

/** "the server sent 2 new data segments and retransmitted 1 (1.3 KB): 33.3% of the 3 it sent, 2 out of order" */
function stats(s: SideView): string {
  const r = s.ev.rare;
  const fresh = s.ev.dataSegs;
  const rex = r?.rexmits ?? 0;
  const jumps = r?.seqJumps ?? 0;
  const order = jumps > 0 ? `, ${jumps} out of order` : '';
  const sent = `${s.who} sent ${fresh} new data segment${fresh === 1 ? '' : 's'}`;
  if (rex === 0) return `${sent} and retransmitted none${order}`;
  const all = fresh + rex;
  const pct = ((rex / all) * 100).toFixed(rex * 100 < all ? 2 : 1);
  return `${sent} and retransmitted ${rex} (${bytesText(r!.rexmitBytes)}): ${pct}% of the ${all} it sent${order}`;
}

/** The sender retransmitted, and the receiver's window (its scale known) was never full nor shut. */
function networkPaced(ctx: DiagnosisContext, s: SideView): boolean {
  const receiver = peerOf(ctx, s);
  return receiver.ev.winShift >= 0 && s.ev.rare!.windowFull === 0 && (receiver.ev.rare?.zeroWindows ?? 0) === 0;
}

/**
 * Whether every byte of `s` that its peer acknowledged lay in a segment whose header the capture
 * showed: then the missed bytes are payload the capture cut short — its snaplen (`tcpdump -s 96`,
 * a header-only capture) — not segments it dropped. Zeek counts a segment that was not captured
 * whole as a content gap once it is acknowledged (tcp-session.ts hands only whole payloads to
 * content-gaps.ts), so with a snaplen every acknowledged data segment becomes missed_bytes.
 * Headers seen everywhere means: no segment of `s` started beyond the highest sequence seen before
 * it (seqJumps), the peer acknowledged nothing beyond that (a lost tail), and — when `s`'s SYN was
 * captured, so its ISN is known — the new payload counted from the headers fills the whole
 * sequence space it used (a hole right before a FIN is not a seqJump).
 */
export function missedOnlyCut(ctx: DiagnosisContext, s: SideView): boolean {
  const ev = s.ev;
  const peer = peerOf(ctx, s).ev;
  if (!ev.hasSeq || (ev.rare?.seqJumps ?? 0) > 0) return false;
  if (peer.hasAck && ((peer.ackHigh - ev.sndNxt) | 0) > 0) return false;
  if (ev.syns > 0) {
    const span = (ev.sndNxt - ev.synIsn - 1 - (ev.fins > 0 ? 1 : 0)) >>> 0;
    if ((ev.dataBytes - span) % 4294967296 !== 0) return false;
  }
  return true;
}

export function loss(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev.rare;
  const r = ctx.resp.ev.rare;
  const rex = (o?.rexmits ?? 0) + (r?.rexmits ?? 0);
  if (rex > 0) {
    const paced = ((o?.rexmits ?? 0) === 0 || networkPaced(ctx, ctx.orig)) && ((r?.rexmits ?? 0) === 0 || networkPaced(ctx, ctx.resp));
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
  // Bytes that only the snaplen kept from the capture were delivered and seen (their headers):
  // no capture loss to report (the summary counts the frames the snaplen cut).
  if (ctx.orig.e.missedBytes === 0 && ctx.resp.e.missedBytes === 0) return;
  const lost = [ctx.orig, ctx.resp].filter((s) => s.e.missedBytes > 0 && !missedOnlyCut(ctx, s));
  if (lost.length > 0) {
    const what = lost.map((s) => `${bytesText(s.e.missedBytes)} of ${s.who}'s data`).join(' and ');
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
      summary: `Capture loss: ${what} acknowledged but never captured (ack_lost_segment), in segments the capture never showed: the capture dropped them, not the network.`,
      advice: 'Capture with a bigger buffer (tcpdump -B) or a filter; watch "dropped by kernel".',
      rstText: null,
    });
  }
}
