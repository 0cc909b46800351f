/**
 * Keepalive probes still unanswered when the capture stopped watching (the RST that ends a
 * keepalive timeout is the rst-keepalive rule's). After tcp_keepalive_probes (9) unanswered
 * probes the kernel resets the connection with TCP_KEEPALIVE_TIMEOUT and the application gets
 * ETIMEDOUT.
 */
import { type DiagnosisContext, type FindingParts, type SideView, epochOf, peerOf } from '../context.js';
import { WRITE_TIMEOUT } from '../errno.js';

function one(ctx: DiagnosisContext, s: SideView, out: FindingParts[]): void {
  const r = s.ev.rare;
  if (r === null || r.kaUnanswered < 2) return;
  if (r.rsts.some((x) => x.keepaliveUnanswered > 0)) return;
  const peer = peerOf(ctx, s);
  out.push({
    kind: 'keepalive-timeout',
    by: 'network',
    reason: 'NONE',
    confidence: r.kaUnanswered >= 3 ? 0.7 : 0.5,
    frames: [r.kaFirstFrame, r.kaLastFrame],
    time: epochOf(ctx, r.kaLastMs),
    state: null,
    candidates: [],
    calls: s.side === 'orig' ? { orig: WRITE_TIMEOUT, resp: [] } : { orig: [], resp: WRITE_TIMEOUT },
    summary:
      `${s.Label}'s last ${r.kaUnanswered} keepalive probes (to frame ${r.kaLastFrame}) got no answer from ${peer.label}; when the probes run out it resets (TCP_KEEPALIVE_TIMEOUT) and its application gets ETIMEDOUT.`,
    advice: 'Why did the peer go silent (host down, NAT or firewall state expired)? Reconnect on ETIMEDOUT.',
    rstText: null,
  });
}

export function keepaliveUnanswered(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
}
