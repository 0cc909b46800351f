/**
 * Data timeout: one side retransmitted the same segment again and again, at growing intervals
 * (RTO backoff), and no ACK ever covered it. Linux gives up after tcp_retries2 (15: about 15
 * minutes with a 200 ms RTO) or TCP_USER_TIMEOUT, without sending anything (no RST): the
 * application's next call fails with ETIMEDOUT — or with the soft error of an ICMP message that
 * arrived meanwhile (EHOSTUNREACH, ...).
 *
 * A path MTU black hole has a shape of its own: the segment that never gets through is the first
 * one of a new, larger size (with DF), the peer acknowledged everything before it, and no ICMP
 * came back. Some link on the way has a smaller MTU and drops it, and the ICMP "fragmentation
 * needed" (ICMPv6 "packet too big") that should lower the sender's path MTU is filtered. Small
 * requests work; the first full-size segment hangs the connection.
 */
import { type DiagnosisContext, type FindingParts, type SideView, epochOf, peerOf, seconds } from '../context.js';
import { WRITE_TIMEOUT } from '../errno.js';

/**
 * Payload below which no path drops a segment for its size: IPv6 guarantees an MTU of 1280 (and
 * IPv4 links below that are a thing of the past), which leaves about 1200 bytes after the headers.
 */
const BLACK_HOLE_MIN_LEN = 1200;

/** The stalled segment is the first of the largest size this side sent, larger than all before it, with DF, and everything before it was acknowledged. */
function blackHole(ctx: DiagnosisContext, s: SideView, peer: SideView): boolean {
  const r = s.ev.rare!;
  const ev = s.ev;
  return (
    ctx.c.icmpErrors === 0 &&
    r.stallLen >= BLACK_HOLE_MIN_LEN &&
    ev.maxDataDf &&
    r.stallSeq === ev.maxDataSeq &&
    ev.lenBeforeMax > 0 &&
    r.stallLen > ev.lenBeforeMax &&
    peer.ev.hasAck &&
    ((peer.ev.ackHigh - r.stallSeq) | 0) === 0
  );
}

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
  const calls = s.side === 'orig' ? { orig: WRITE_TIMEOUT, resp: [] } : { orig: [], resp: WRITE_TIMEOUT };
  if (blackHole(ctx, s, peer)) {
    const c = ctx.c;
    const icmp = c.origA0 === 0 && c.origA1 === 0 && c.origA2 === 0xffff ? 'ICMP "fragmentation needed"' : 'ICMPv6 "packet too big"';
    out.push({
      kind: 'mtu-black-hole',
      by: 'network',
      reason: 'NONE',
      confidence: backoff ? 0.8 : 0.6,
      frames: [r.stallFirstFrame, r.stallLastFrame],
      time: epochOf(ctx, r.stallFirstMs),
      state: null,
      candidates: [],
      calls,
      summary:
        `${s.Label} retransmitted ${r.stallLen} bytes, the start of its first segment larger than ${s.ev.lenBeforeMax} bytes, ${r.stallCount} times (frames ${r.stallFirstFrame}–${r.stallLastFrame}, ${seconds(span)}${backoff ? ', backing off' : ''}) and never got them through, ` +
        `while ${peer.label} had acknowledged everything before; no ICMP came back. ` +
        `A path MTU black hole: a link on the way has a smaller MTU and drops the segment (DF set), and the ${icmp} that should shrink ${s.who}'s segments is filtered. ` +
        `The connection hangs; after tcp_retries2 (~15 min) the application gets ETIMEDOUT.`,
      advice:
        `Find the path MTU (tracepath ${peer.addr}, or ping -M do -s SIZE); let ICMP "fragmentation needed" (type 3 code 4) and ICMPv6 "packet too big" through the firewalls; ` +
        `clamp the MSS on the router or tunnel (nft: tcp option maxseg size set rt mtu); net.ipv4.tcp_mtu_probing=1 lets Linux find a working size by itself.`,
      rstText: null,
    });
    return;
  }
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
    calls,
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
