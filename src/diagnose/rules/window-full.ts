/**
 * Window full: one side's data reached the right edge of the window the other side advertised
 * (seq + len = its latest ACK + its scaled window; Wireshark's "TCP Window Full"). The sender had
 * more to send and the receiver's window, not the network, held it back. Two stories, told apart
 * by the receiver's windows:
 * - the window then shut (zero window) for long enough to matter (zero-window.ts: probes, or
 *   200 ms or more): the receiver's application does not read fast enough — a slow reader; shut
 *   only for a moment, it is ordinary flow control on a fast link (a weak observation);
 * - the window filled but never shut: the receiver read what arrived, but its window is smaller
 *   than the path's bandwidth-delay product — a small SO_RCVBUF or tcp_rmem, or window scaling
 *   not negotiated (disabled, or the option stripped by a middlebox), which caps it at 64 KB.
 * Retransmissions without a full window are the third story, a slow or lossy network: the loss
 * rule says so.
 */
import { type DiagnosisContext, type FindingParts, type SideView, bytesText, epochOf, msText, peerOf, seconds } from '../context.js';
import { zeroWindowEpisodes } from './zero-window.js';

/** The largest window a receiver can advertise without window scaling. */
const UNSCALED_MAX = 65535;

function rateText(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  if (bits >= 1e9) return `${(bits / 1e9).toFixed(1)} Gbit/s`;
  if (bits >= 1e6) return `${(bits / 1e6).toFixed(bits < 1e7 ? 1 : 0)} Mbit/s`;
  return `${Math.round(bits / 1e3)} kbit/s`;
}

/** The handshake's round trip as the capture saw it (SYN to the ACK of the SYN-ACK, at any capture point), in ms; 0 when unknown. */
function handshakeRttMs(ctx: DiagnosisContext): number {
  const o = ctx.orig.ev;
  const r = ctx.resp.ev;
  if (o.syns === 0 || r.synAcks === 0 || o.firstAckFrame < r.synAckFirstFrame) return 0;
  return o.firstAckMs - o.synLastMs;
}

/** Why a window that never shut was still too small: scaling missing, or a small buffer. */
function smallWindow(ctx: DiagnosisContext, sender: SideView, receiver: SideView, windowMax: number): { why: string; advice: string } {
  const unscaled = [ctx.orig, ctx.resp].find((x) => x.ev.syns + x.ev.synAcks > 0 && x.ev.synWscale < 0);
  if (unscaled !== undefined && windowMax <= UNSCALED_MAX) {
    return {
      why:
        `Window scaling was not negotiated (${unscaled.who}'s ${unscaled.ev.syns > 0 ? 'SYN' : 'SYN-ACK'} carried no window-scale option: net.ipv4.tcp_window_scaling = 0 there, or a middlebox stripped it), ` +
        `so ${receiver.who}'s window can never exceed 64 KB.`,
      advice: `Enable window scaling (sysctl net.ipv4.tcp_window_scaling = 1) on both hosts; if it is on, capture on both sides of firewalls and load balancers to find the one that strips the option from the SYN.`,
    };
  }
  return {
    why: `${receiver.Who}'s receive buffer is small: an SO_RCVBUF its application set (which also turns off autotuning) or the maximum of net.ipv4.tcp_rmem.`,
    advice: `Do not set SO_RCVBUF on ${receiver.who} (let autotuning grow the window), or raise net.ipv4.tcp_rmem's maximum (net.core.rmem_max for SO_RCVBUF) above the path's bandwidth-delay product; ${sender.who} can only keep one window in flight per round trip.`,
  };
}

function one(ctx: DiagnosisContext, sender: SideView, out: FindingParts[]): void {
  const r = sender.ev.rare;
  if (r === null || r.windowFull === 0) return;
  const receiver = peerOf(ctx, sender);
  const zwe = zeroWindowEpisodes(ctx, receiver);
  const zw = zwe?.advertisements ?? 0;
  const times = r.windowFull > 1 ? `${r.windowFull} times between frames ${r.wfFirstFrame} and ${r.wfLastFrame}` : `once, at frame ${r.wfFirstFrame}`;
  const filled = `${receiver.Label} had a full receive window ${times}: ${sender.who} sent up to its right edge (windows of at most ${bytesText(r.wfWindowMax)})`;
  const rexmits =
    r.rexmits > 0 ? ` ${sender.Who} also retransmitted ${r.rexmits} segment${r.rexmits === 1 ? '' : 's'} (lost on the way, or dropped by ${receiver.who} short of buffer memory).` : '';
  let confidence: number;
  let summary: string;
  let advice: string;
  if (zwe !== null && zwe.momentary) {
    // Shut for less than the shortest timer a sender would arm, no probe: the reader caught up at once.
    confidence = 0.5;
    summary =
      `${filled}, and ${receiver.who} shut it for a moment (${zw} zero-window advertisement${zw === 1 ? '' : 's'}, ${msText(zwe.totalMs)} in all, no zero-window probe): ` +
      `its application read the data an instant later — ordinary flow control when ${sender.who} sends faster than a reader wakes up (a fast link, loopback), not a stall.${rexmits}`;
    advice = `Nothing to fix unless the transfer is slower than expected; then look at what delays ${receiver.who}'s reads and at its receive buffer (SO_RCVBUF, net.ipv4.tcp_rmem).`;
  } else if (zw > 0) {
    confidence = 0.85;
    summary = `${filled}, and ${receiver.who} then shut it (${zw} zero-window advertisement${zw === 1 ? '' : 's'}): its application is not reading fast enough — a slow reader, not a small buffer or a slow network.${rexmits}`;
    advice = `What slows ${receiver.who}'s reader (a lock, slow disk or database, a full downstream queue)? A bigger buffer only delays the stall.`;
  } else {
    confidence = r.windowFull >= 10 ? 0.8 : r.windowFull >= 3 ? 0.7 : 0.5;
    const rtt = handshakeRttMs(ctx);
    const cap = rtt >= 1 ? ` At the handshake's round trip of ${seconds(rtt / 1000)}, one window per round trip caps the transfer at about ${rateText(r.wfWindowMax / (rtt / 1000))}.` : '';
    const small = smallWindow(ctx, sender, receiver, r.wfWindowMax);
    summary = `${filled}, but the window never shut: ${receiver.who} read what arrived, and its window, smaller than the path's bandwidth-delay product, limited the transfer, not the network.${cap} ${small.why}${rexmits}`;
    advice = small.advice;
  }
  out.push({
    kind: 'window-full',
    by: receiver.side,
    reason: 'NONE',
    confidence,
    frames: [r.wfFirstFrame, r.wfLastFrame],
    time: epochOf(ctx, r.wfFirstMs),
    state: null,
    candidates: [],
    calls: { orig: [], resp: [] },
    summary,
    advice,
    rstText: null,
  });
}

export function windowFull(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
}
