/**
 * Data timeout: one side retransmitted the same segment again and again, at growing intervals
 * (RTO backoff), and no ACK ever covered it. Linux gives up after tcp_retries2 (15: about 15
 * minutes with a 200 ms RTO) or TCP_USER_TIMEOUT, without sending anything (no RST): the
 * application's next call fails with ETIMEDOUT — or with the soft error of an ICMP message that
 * arrived meanwhile (EHOSTUNREACH, ...).
 */
import { type DiagnosisContext, type FindingParts, type SideView, epochOf, peerOf, seconds } from '../context.js';
import { WRITE_TIMEOUT } from '../errno.js';

function one(ctx: DiagnosisContext, s: SideView, out: FindingParts[]): void {
  const r = s.ev.rare;
  if (r === null || r.stallCount < 3) return;
  const peer = peerOf(ctx, s);
  // An RST from the peer after the stall began explains the end instead (the reset rules say so).
  const peerRst = peer.ev.rare?.rsts.some((x) => x.frame > r.stallFirstFrame) ?? false;
  if (peerRst) return;
  const span = (r.stallLastMs - r.stallFirstMs) / 1000;
  const afterLast = ctx.observedUntil - epochOf(ctx, r.stallLastMs);
  const backoff = r.stallBackoffs >= 1;
  const confidence = r.stallCount >= 5 && backoff ? 0.85 : backoff ? 0.7 : 0.5;
  out.push({
    kind: 'retransmission-timeout',
    by: 'network',
    reason: 'NONE',
    confidence,
    frames: [r.stallFirstFrame, r.stallLastFrame],
    time: epochOf(ctx, r.stallFirstMs),
    state: null,
    candidates: [],
    calls: s.side === 'orig' ? { orig: WRITE_TIMEOUT, resp: [] } : { orig: [], resp: WRITE_TIMEOUT },
    summary:
      `${s.Label} sent the same data ${r.stallCount} times (frames ${r.stallFirstFrame}–${r.stallLastFrame}, ${seconds(span)}${backoff ? ', backing off' : ''}) without an ACK from ${peer.label}, then ${seconds(Math.max(0, afterLast))} of silence: ` +
      `the peer is unreachable. After tcp_retries2 (~15 min) the kernel gives up silently and the application gets ETIMEDOUT "Connection timed out".`,
    advice: 'Set TCP_USER_TIMEOUT to notice dead peers sooner; check the path for a NAT or firewall that forgot the connection.',
    rstText: null,
  });
}

export function retransmissionTimeout(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
}
